import Foundation

/// MPNet's relative position bias (`encoder.relative_attention_bias`), added to the attention scores of every
/// layer between Q·Kᵀ/√d and softmax, exactly as Hugging Face's `MPNetEncoder.compute_position_bias`:
/// the relative position `key − query` falls into one of 32 bidirectional buckets (the description's `buckets`) (exact up to distance 7,
/// logarithmic up to `max_distance` 128, the last bucket beyond), and each (bucket, head) has a learned scalar.
///
/// The bias depends only on `key − query`, so one vector per head over every relative position
/// `−(L−1) … L−1` (L = the model's longest sequence) holds the bias of every sequence length: row `query` of a
/// sequence's (length, length) bias is the window starting at `L − 1 − query`, and consecutive rows overlap
/// (row stride −1). The table is built once at load and shared by all layers, sequences and forward passes.
struct RelativePositionBias: @unchecked Sendable {
    /// (heads, 2·maxLength − 1): head h's bias for relative position r at `[h, r + maxLength − 1]`.
    let table: UnsafePointer<Float>
    let maxLength: Int
    let headCount: Int

    /// Reads `<tensor>.weight`: (relative_attention_num_buckets, heads).
    static func load(
        _ root: CheckpointScope, tensor name: String, config: EncoderConfiguration, buckets: Int, maxDistance: Int
    ) throws(EncoderError) -> RelativePositionBias {
        let heads = config.numAttentionHeads
        let maxLength = config.maxSequenceLength
        let width = 2 * maxLength - 1
        let table = root.storage.allocate(heads * width)
        try root.withTensor(name + ".weight", shape: [config.relativeAttentionNumBuckets, heads]) { weights in
            for r in -(maxLength - 1)...(maxLength - 1) {
                let bucket = Self.bucket(relativePosition: r, buckets: buckets, maxDistance: maxDistance)
                for head in 0..<heads { table[head * width + r + maxLength - 1] = weights[bucket * heads + head] }
            }
        }
        return RelativePositionBias(table: UnsafePointer(table.baseAddress!), maxLength: maxLength, headCount: heads)
    }

    /// Hugging Face's `relative_position_bucket(relative_position, num_buckets, max_distance)`, with its
    /// fp32 logarithm: with 32 buckets, positions to the right (key after query) use 16…31, the others 0…15.
    static func bucket(relativePosition r: Int, buckets: Int, maxDistance: Int) -> Int {
        let half = buckets / 2          // 16
        let maxExact = half / 2         // 8
        var bucket = r > 0 ? half : 0   // n = −r < 0
        let n = abs(r)
        if n < maxExact { return bucket + n }
        let ratio = Float(n) / Float(maxExact)
        let scale = Float(Foundation.log(Double(maxDistance) / Double(maxExact)))
        let large = maxExact + Int(Foundation.log(ratio) / scale * Float(half - maxExact))
        bucket += min(large, half - 1)
        return bucket
    }

    /// Row 0 of head `head`'s bias for any sequence length: columns are keys 0, 1, …; row q is at `- q`.
    func firstRow(head: Int) -> UnsafePointer<Float> {
        table + head * (2 * maxLength - 1) + (maxLength - 1)
    }
}
