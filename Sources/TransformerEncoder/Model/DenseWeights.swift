import Synchronization

/// A dense layer's weights `Wᵀ`: (inFeatures, outFeatures), in the forms the backends read:
/// - the **plain** form, fp32 row-major, which BLAS, the naive loops and oneDNN in fp32 multiply by (``plain``);
/// - oneDNN's reordered layouts for bf16 and int8 (``oneDNN``), made on first use.
final class DenseWeights: Sendable {
    let inFeatures: Int
    let outFeatures: Int
    /// Wᵀ: (inFeatures, outFeatures) fp32, row-major. Owned; immutable once loading ends.
    nonisolated(unsafe) let plain: UnsafeMutablePointer<Float>
    /// oneDNN's copies of the weights for bf16 and int8.
    let oneDNN = OneDNNWeights()
    /// Input channels (rows of Wᵀ) that int8 leaves out of its 8-bit product (an FFN output's, set by the model's
    /// int8 calibration before its int8 weights are made, ``EncoderModel/prepareOneDNN(_:)``); usually empty.
    var int8Outliers: [Int32] { outliers.withLock { $0 } }
    private let outliers = Mutex<[Int32]>([])
    /// Whether the fp32 column-block plans for this shape are made (``Linear/prepareOneDNN(_:)``).
    let fp32PlansMade = Atomic<Bool>(false)

    /// Zeroed weights, filled by the loader before the model is shared.
    init(inFeatures: Int, outFeatures: Int) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        plain = UnsafeMutablePointer<Float>.allocate(capacity: max(1, inFeatures * outFeatures))
        plain.initialize(repeating: 0, count: max(1, inFeatures * outFeatures))
    }

    /// Sets ``int8Outliers``; before the int8 weights are made (later calls change nothing once they exist).
    func setInt8Outliers(_ channels: [Int32]) {
        guard oneDNN.prepared(.int8) == nil else { return }
        outliers.withLock { $0 = channels }
    }

    /// Makes oneDNN's copy for `precision` (once; thread-safe).
    func prepareOneDNN(_ precision: Precision) throws(EncoderError) {
        if oneDNN.prepared(precision) != nil { return }
        try oneDNN.prepare(
            precision, weightTransposed: plain, inFeatures: inFeatures, outFeatures: outFeatures,
            int8Outliers: int8Outliers)
    }

    deinit { plain.deallocate() }
}
