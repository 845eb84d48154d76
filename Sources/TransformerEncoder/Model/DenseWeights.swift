import Foundation
import Synchronization

/// A dense layer's weights `Wᵀ`: (inFeatures, outFeatures), in the forms the backends read, with as few copies
/// resident as the backends in use need:
/// - the **plain** form, fp32 row-major, which BLAS and the naive loops multiply by (``plain``);
/// - oneDNN's reordered layouts, one per precision (``oneDNN``), made on first use.
///
/// A model whose default backend is `.onednn` in fp32 keeps only oneDNN's fp32 copy: the plain form is released
/// at load (``releasePlain()``) and made again from that copy (an exact reorder back) the first time a pass asks
/// for `.blas` or `.naive` (``makePlain()``). So a oneDNN model holds the dense weights once, like a BLAS model.
/// The plain form lives in pages of its own (`mmap`), so releasing it gives the memory back to the system.
final class DenseWeights: Sendable {
    let inFeatures: Int
    let outFeatures: Int
    /// oneDNN's copies of the weights, per precision.
    let oneDNN = OneDNNWeights()
    /// Input channels (rows of Wᵀ) that int8 leaves out of its 8-bit product (an FFN output's, set by the model's
    /// int8 calibration before its int8 weights are made, ``EncoderModel/prepareOneDNN(_:)``); usually empty.
    var int8Outliers: [Int32] { outliers.withLock { $0 } }
    private let outliers = Mutex<[Int32]>([])
    /// The plain form's address, 0 while released. Written under `lock`; read without it on the hot path.
    private let plainAddress: Atomic<Int>
    private let lock = Mutex<Void>(())

    /// Takes ownership of `plain` (from ``allocatePlain(inFeatures:outFeatures:)``), filled with Wᵀ.
    init(plain: UnsafeMutablePointer<Float>, inFeatures: Int, outFeatures: Int) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        plainAddress = Atomic(Int(bitPattern: plain))
    }

    /// Sets ``int8Outliers``; before the int8 weights are made (later calls change nothing once they exist).
    func setInt8Outliers(_ channels: [Int32]) {
        guard oneDNN.prepared(.int8) == nil else { return }
        outliers.withLock { $0 = channels }
    }

    /// Zeroed pages for the plain form of a (inFeatures, outFeatures) weight.
    static func allocatePlain(inFeatures: Int, outFeatures: Int) throws(EncoderError) -> UnsafeMutablePointer<Float> {
        let bytes = max(1, inFeatures * outFeatures) * MemoryLayout<Float>.stride
        guard let pages = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              pages != MAP_FAILED
        else {
            throw .invalidArgument(
                name: "dense weights \(inFeatures)×\(outFeatures)",
                reason: "cannot allocate \(bytes) bytes: \(String(cString: strerror(errno)))")
        }
        return pages.bindMemory(to: Float.self, capacity: bytes / MemoryLayout<Float>.stride)
    }

    private static func freePlain(_ pointer: UnsafeMutablePointer<Float>, inFeatures: Int, outFeatures: Int) {
        munmap(pointer, max(1, inFeatures * outFeatures) * MemoryLayout<Float>.stride)
    }

    /// The plain form, Wᵀ: (inFeatures, outFeatures) fp32 row-major, or `nil` while it is released. A pass on
    /// `.blas` or `.naive` calls ``makePlain()`` first, so it is never `nil` there.
    @inline(__always)
    var plain: UnsafePointer<Float>? {
        UnsafePointer(bitPattern: plainAddress.load(ordering: .acquiring))
    }

    /// Makes the plain form again if it was released (once; thread-safe): an exact reorder of oneDNN's fp32 copy.
    func makePlain() throws(EncoderError) {
        if plain != nil { return }
        try lock.withLock { (_: inout Void) throws(EncoderError) in
            if plain != nil { return }
            guard let fp32 = oneDNN.prepared(.fp32) else {
                throw .oneDNN(operation: "dense layer \(inFeatures)→\(outFeatures)", status: "no copy of the weights left")
            }
            let pages = try Self.allocatePlain(inFeatures: inFeatures, outFeatures: outFeatures)
            do throws(EncoderError) {
                try fp32.copyPlain(into: pages)
            } catch {
                Self.freePlain(pages, inFeatures: inFeatures, outFeatures: outFeatures)
                throw error
            }
            plainAddress.store(Int(bitPattern: pages), ordering: .releasing)
        }
    }

    /// Makes oneDNN's copy for `precision` (once; thread-safe), from the plain form, or when that is released from
    /// a temporary plain form made from oneDNN's fp32 copy.
    func prepareOneDNN(_ precision: Precision) throws(EncoderError) {
        if oneDNN.prepared(precision) != nil { return }
        try lock.withLock { (_: inout Void) throws(EncoderError) in
            if let plain {
                try oneDNN.prepare(
                    precision, weightTransposed: plain, inFeatures: inFeatures, outFeatures: outFeatures,
                    int8Outliers: int8Outliers)
                return
            }
            guard let fp32 = oneDNN.prepared(.fp32) else {
                throw .oneDNN(operation: "dense layer \(inFeatures)→\(outFeatures)", status: "no copy of the weights left")
            }
            let temporary = try Self.allocatePlain(inFeatures: inFeatures, outFeatures: outFeatures)
            defer { Self.freePlain(temporary, inFeatures: inFeatures, outFeatures: outFeatures) }
            try fp32.copyPlain(into: temporary)
            try oneDNN.prepare(
                precision, weightTransposed: temporary, inFeatures: inFeatures, outFeatures: outFeatures,
                int8Outliers: int8Outliers)
        }
    }

    /// Gives the plain form's pages back to the system, once oneDNN's fp32 copy exists. Only while the model is
    /// being loaded (no pass can be reading the plain form); later passes on `.blas` or `.naive` make it again.
    func releasePlain() throws(EncoderError) {
        try prepareOneDNN(.fp32)
        lock.withLock { _ in
            guard let plain = UnsafeMutablePointer<Float>(bitPattern: plainAddress.load(ordering: .acquiring)) else { return }
            plainAddress.store(0, ordering: .releasing)
            Self.freePlain(plain, inFeatures: inFeatures, outFeatures: outFeatures)
        }
    }

    deinit {
        if let plain = UnsafeMutablePointer<Float>(bitPattern: plainAddress.load(ordering: .acquiring)) {
            Self.freePlain(plain, inFeatures: inFeatures, outFeatures: outFeatures)
        }
    }
}
