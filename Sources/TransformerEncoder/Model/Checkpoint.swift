import Foundation
import SafeTensors

/// Owns the memory behind a model's weights: the memory-mapped checkpoint's tensors (used in place)
/// and the few buffers the encoder builds at load time (the concatenated Q/K/V projection).
/// Immutable once loading ends, so the pointers handed out stay valid and safe to share.
final class WeightStorage: @unchecked Sendable {
    private var tensors: [FloatTensor] = []
    private var owned: [UnsafeMutableBufferPointer<Float>] = []
    /// Checkpoint tensors copied into another layout, whose mapped pages the model never reads again.
    private var copied: [(pointer: UnsafePointer<Float>, count: Int)] = []

    func keep(_ tensor: FloatTensor) { tensors.append(tensor) }

    /// Returns the pages of a tensor copied into another layout to the kernel now and, when it is read in
    /// place from the checkpoint's bytes (which the model keeps alive), again when loading ends. A tensor
    /// that was itself a conversion (fp16, bf16, unaligned) is freed with its `FloatTensor`: its memory may
    /// be reused, so it is released only now, while it is still alive.
    func releaseCopied(_ tensor: FloatTensor) {
        Self.releasePages(tensor.pointer, count: tensor.count)
        if tensor.isBorrowed { copied.append((tensor.pointer, tensor.count)) }
    }

    /// Called once every tensor is loaded: releases the copied tensors' pages a second time. Reading the
    /// next tensors maps file pages around each fault (the kernel's fault-around, and readahead of the page
    /// cache), some of them inside tensors already released; measured on all-MiniLM-L6-v2, 11 MiB of the
    /// checkpoint stayed resident beyond the tensors used in place until this pass.
    func finishLoading() {
        for tensor in copied { Self.releasePages(tensor.pointer, count: tensor.count) }
        copied = []
    }

    /// `madvise(MADV_DONTNEED)` on the whole pages inside `count` floats at `pointer`: pages of a private
    /// file mapping are dropped (read again from the file if ever touched), pages of a copy are zeroed;
    /// either way the caller must not read them again.
    private static func releasePages(_ pointer: UnsafePointer<Float>, count: Int) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard page > 0 else { return }
        let start = Int(bitPattern: UnsafeRawPointer(pointer))
        let end = start + count * MemoryLayout<Float>.stride
        let first = (start + page - 1) / page * page
        let last = end / page * page
        guard last > first, let base = UnsafeMutableRawPointer(bitPattern: first) else { return }
        _ = madvise(base, last - first, MADV_DONTNEED)
    }

    /// A new zeroed buffer of `count` floats that lives as long as the model.
    func allocate(_ count: Int) -> UnsafeMutableBufferPointer<Float> {
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(count, 1))
        buffer.initialize(repeating: 0)
        owned.append(buffer)
        return buffer
    }

    deinit { for buffer in owned { buffer.deallocate() } }
}

/// A view of the checkpoint scoped to one module, like candle's `vb.pp("attention")`: names are the
/// checkpoint's own (`encoder.layer.3.attention.self.query.weight`), and every load states the shape
/// it expects, so a wrong checkpoint fails at load time with the tensor's name.
struct CheckpointScope {
    let file: SafeTensorsFile
    let prefix: String
    let storage: WeightStorage

    /// The root scope of a checkpoint of `architecture`: keys as the bare model saves them
    /// (`embeddings.word_embeddings.weight`) or with the family's prefix that task models
    /// (`BertForMaskedLM`, `XLMRobertaForMaskedLM`, …) put in front (`roberta.embeddings.…`).
    init(file: SafeTensorsFile, storage: WeightStorage, architecture: ArchitectureDescription) {
        self.file = file
        self.storage = storage
        let probe = architecture.wordEmbeddings + ".weight"
        let names = Set(file.tensorNames)
        prefix = !names.contains(probe) && names.contains(architecture.rootPrefix + probe) ? architecture.rootPrefix : ""
    }

    private init(file: SafeTensorsFile, prefix: String, storage: WeightStorage) {
        self.file = file
        self.prefix = prefix
        self.storage = storage
    }

    /// The scope of a sub-module: `scope("encoder").scope("layer.0")`.
    func scope(_ name: String) -> CheckpointScope {
        CheckpointScope(file: file, prefix: prefix + name + ".", storage: storage)
    }

    /// Hands the tensor `name` (fp32, checked to have `shape`) to `body`, which copies what it needs;
    /// afterwards the tensor's memory-mapped pages are returned to the kernel, so a weight the encoder
    /// keeps in another layout does not stay resident twice.
    func withTensor(
        _ name: String, shape: [Int], _ body: (UnsafePointer<Float>) -> Void
    ) throws(EncoderError) {
        let tensor: FloatTensor
        do {
            tensor = try file.floatTensor(prefix + name, shape: shape)
        } catch {
            throw .checkpoint(error)
        }
        try Self.checkFinite(tensor, file: file)
        body(tensor.pointer)
        storage.releaseCopied(tensor)
    }

    /// The tensor `name` of this scope as fp32, checked to have `shape`.
    func tensor(_ name: String, shape: [Int]) throws(EncoderError) -> UnsafePointer<Float> {
        let tensor: FloatTensor
        do {
            tensor = try file.floatTensor(prefix + name, shape: shape)
        } catch {
            throw .checkpoint(error)
        }
        try Self.checkFinite(tensor, file: file)
        storage.keep(tensor)
        return tensor.pointer
    }

    /// Every weight must be finite: a NaN or infinity would silently turn every output into NaN.
    /// One vectorized pass (x·0 is 0 for finite x, NaN otherwise); the index is found only on failure.
    private static func checkFinite(_ tensor: FloatTensor, file: SafeTensorsFile) throws(EncoderError) {
        guard let first = ElementwiseKernels.firstNonFinite(tensor.pointer, count: tensor.count) else { return }
        throw .nonFiniteWeight(path: file.name, tensor: tensor.name, index: first)
    }
}
