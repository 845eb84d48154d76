import Foundation
import SafeTensors
import Synchronization

/// A transformer encoder (BERT, RoBERTa, XLM-RoBERTa, DistilBERT or MPNet) with weights from a Hugging Face
/// checkpoint (`config.json` + `model.safetensors`).
///
/// One code path runs every family: the configuration's ``EncoderFamily`` describes key names, positions,
/// token types and the optional attention bias as data, and the blocks (``Embeddings``, ``SelfAttention``,
/// ``FeedForward``) read it. The weights are memory-mapped and shared; activations live in reusable
/// workspaces. A model is immutable and `Sendable`: many tasks may encode with one model at once.
public final class EncoderModel: Sendable {
    /// The architecture, from `config.json`.
    public let configuration: EncoderConfiguration
    /// Backend and threads used when a call does not say otherwise.
    public let defaultOptions: ComputeOptions

    let embeddings: Embeddings
    let layers: [EncoderLayer]
    /// MPNet's relative position bias, shared by all layers; `nil` for the other families.
    let attentionBias: RelativePositionBias?
    private let storage: WeightStorage
    private let file: SafeTensorsFile
    private let workspaces: WorkspacePool
    /// Whether int8's outlier channels are chosen (``calibrateInt8()``); held while choosing them.
    private let int8Calibrated = Mutex<Bool>(false)

    /// Loads `config.json` and `model.safetensors` from a Hugging Face model folder.
    public convenience init(folder: URL, options: ComputeOptions = ComputeOptions()) throws(EncoderError) {
        let configuration = try EncoderConfiguration(contentsOf: folder.appendingPathComponent("config.json"))
        let checkpoint = folder.appendingPathComponent("model.safetensors")
        let pytorch = folder.appendingPathComponent("pytorch_model.bin")
        let files = FileManager.default
        if !files.fileExists(atPath: checkpoint.path) && files.fileExists(atPath: pytorch.path) {
            throw .unreadableFile(
                path: checkpoint.path,
                reason: "missing: the folder has only pytorch_model.bin, and this encoder reads safetensors. Convert it once with: "
                    + "python -c \"from transformers import AutoModel; AutoModel.from_pretrained('\(folder.path)')"
                    + ".save_pretrained('\(folder.path)', safe_serialization=True)\"")
        }
        try self.init(configuration: configuration, checkpoint: checkpoint, options: options)
    }

    /// Loads the weights in `checkpoint` (a safetensors file) for `configuration`.
    ///
    /// Keys are the family's (see ``EncoderFamily``), bare or behind the family's prefix (`bert.`, `roberta.`,
    /// `distilbert.`, `mpnet.`). Every tensor's shape is checked against the configuration, and every value
    /// must be finite (``EncoderError/nonFiniteWeight(path:tensor:index:)`` names the tensor).
    public init(
        configuration: EncoderConfiguration, checkpoint: URL, options: ComputeOptions = ComputeOptions()
    ) throws(EncoderError) {
        let file: SafeTensorsFile
        do {
            file = try SafeTensorsFile(contentsOf: checkpoint)
        } catch {
            throw .checkpoint(error)
        }
        let architecture = configuration.family.architecture
        let storage = WeightStorage()
        let root = CheckpointScope(file: file, storage: storage, architecture: architecture)
        self.embeddings = try Embeddings.load(root, configuration, architecture)
        try options.validate()
        var layers: [EncoderLayer] = []
        for index in 0..<configuration.numHiddenLayers {
            layers.append(try EncoderLayer.load(root.scope("\(architecture.layerPrefix).\(index)"), configuration, architecture))
        }
        switch architecture.attentionBias {
        case nil:
            attentionBias = nil
        case let .relativePositionBuckets(tensor, _, buckets, maxDistance):
            attentionBias = try RelativePositionBias.load(
                root, tensor: tensor, config: configuration, buckets: buckets, maxDistance: maxDistance)
        }
        self.layers = layers
        self.configuration = configuration
        self.defaultOptions = options
        storage.finishLoading()
        self.storage = storage
        self.file = file
        self.workspaces = WorkspacePool(
            hiddenSize: configuration.hiddenSize, intermediateSize: configuration.intermediateSize)
        // After every layer is loaded: int8 first calibrates on the whole model.
        if options.backend == .onednn { try prepareOneDNN(options.precision) }
    }

    /// Makes every dense layer's weights in oneDNN's layout for `precision` (once per precision; thread-safe):
    /// done at load when the default options ask for `.onednn`, else on the first `.onednn` pass. bf16 keeps one
    /// more copy of the dense weights, half the size of the checkpoint's, int8 a quarter (and int8 first calibrates,
    /// ``calibrateInt8()``); fp32 needs none: oneDNN multiplies the plain weights in place, so a `.onednn` fp32 model
    /// holds its weights once, like a BLAS model.
    /// - Throws: ``EncoderError/unsupportedPrecision(precision:backend:reason:)`` when the CPU cannot run
    ///   `precision` fast; ``EncoderError/oneDNN(operation:status:)`` when oneDNN fails.
    public func prepareOneDNN(_ precision: Precision) throws(EncoderError) {
        if precision == .int8 { try calibrateInt8() }
        for layer in layers { try layer.forEachDense { (linear) throws(EncoderError) in try linear.prepareOneDNN(precision) } }
    }

    /// Chooses, once, the input channels each FFN output layer multiplies in fp32 under ``Precision/int8``: the
    /// ``FeedForward/int8OutlierCount`` channels of the GELU output with the largest |activation| in an fp32 pass over
    /// ``calibrationSequences()``. Transformer FFNs have a few channels 10–100× larger than the rest, whatever the
    /// input (all-mpnet-base-v2: up to 100 against a median of 1), which per-row 8-bit quantization cannot resolve.
    /// Found by simulating the recipe in PyTorch: without these channels all-mpnet-base-v2 misses the int8 gates
    /// (0.9905 / 0.960), with them both models meet them (``ReducedPrecisionTests``; Docs/Benchmarks.md).
    private func calibrateInt8() throws(EncoderError) {
        try int8Calibrated.withLock { (done: inout Bool) throws(EncoderError) in
            if done { return }
            let i = configuration.intermediateSize
            let maxima = UnsafeMutablePointer<Float>.allocate(capacity: layers.count * i)
            defer { maxima.deallocate() }
            maxima.initialize(repeating: 0, count: layers.count * i)
            let options = ComputeOptions(backend: .onednn, threads: 1, precision: .fp32)
            try run(calibrationSequences(), options: options, capturingHiddenStates: false, feedForwardMaxima: maxima) { _, _ in }
            for (index, layer) in layers.enumerated() {
                let layerMaxima = maxima + index * i
                let largest = (0..<i).sorted { layerMaxima[$0] != layerMaxima[$1] ? layerMaxima[$0] > layerMaxima[$1] : $0 < $1 }
                layer.feedForward.outputDense.weights.setInt8Outliers(
                    largest.prefix(FeedForward.int8OutlierCount).sorted().map { Int32($0) })
            }
            done = true
        }
    }

    /// int8's calibration input: 8 sequences of 32 token ids (fewer if the model's positions are fewer), drawn
    /// uniformly from the upper 90 % of the vocabulary (past special and unused ids, never the padding id) by a fixed
    /// SplitMix64 stream: no tokenizer needed, the same for every run. Simulated in PyTorch, such ids pick channels
    /// as good as real sentences do (all-MiniLM-L6-v2 int8: min cosine 0.9992 against 0.9991 with 39 sentences).
    func calibrationSequences() -> [TokenSequence] {
        let vocabulary = configuration.vocabSize
        let low = vocabulary / 10
        let length = min(32, configuration.maxSequenceLength)
        var state: UInt64 = 0x5EED_CA11_B4A7_E000
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        return (0..<8).map { _ in
            var ids: [Int32] = []
            while ids.count < length {
                let id = low + Int(next() % UInt64(max(1, vocabulary - low)))
                if id != configuration.positionPaddingIndex { ids.append(Int32(id)) }
            }
            return TokenSequence(inputIDs: ids)
        }
    }

    /// Runs the encoder on a batch of sequences of any lengths.
    ///
    /// - Parameters:
    ///   - sequences: token ids with special tokens; lengths may differ (no padding is needed or computed).
    ///   - outputHiddenStates: also return every layer's output (`hidden_states.0…N`), for comparison with a reference.
    ///   - options: backend and threads; the model's ``defaultOptions`` when `nil`.
    /// - Returns: every real token's last hidden state, packed: (tokens, hidden).
    /// - Throws: ``EncoderError/invalidInput(sequence:position:reason:)`` for an id outside the vocabulary,
    ///   a token type outside `type_vocab_size`, or a sequence longer than ``EncoderConfiguration/maxSequenceLength``;
    ///   ``EncoderError/nonFiniteHiddenState(sequence:position:)`` when the weights overflow on an input.
    public func encode(
        _ sequences: [TokenSequence], outputHiddenStates: Bool = false, options: ComputeOptions? = nil
    ) throws(EncoderError) -> EncoderOutput {
        let h = configuration.hiddenSize
        return try run(sequences, options: options, capturingHiddenStates: outputHiddenStates) { context, captured in
            let output = Matrix(copying: context.workspace.hidden, rows: context.tokens, columns: h)
            return EncoderOutput(lastHiddenState: output, sequenceStarts: context.sequenceStarts, hiddenStates: captured)
        }
    }

    /// Runs the encoder like ``encode(_:outputHiddenStates:options:)`` but lends the last hidden state to `body`
    /// in place, from the model's workspace, instead of copying it out: what a pipeline that pools at once uses,
    /// so that a batch costs no (tokens, hidden) copy.
    ///
    /// - Parameters:
    ///   - body: receives `states`, (tokens, hidden) packed sequence after sequence, and `sequenceStarts`
    ///     (sequence `i` is rows `sequenceStarts[i]..<sequenceStarts[i + 1]`). `states` is valid only
    ///     during the call: the workspace goes back to the pool afterwards.
    /// - Throws: as ``encode(_:outputHiddenStates:options:)``.
    package func withLastHiddenState<R>(
        _ sequences: [TokenSequence], options: ComputeOptions? = nil,
        _ body: (_ states: UnsafeBufferPointer<Float>, _ sequenceStarts: [Int]) -> R
    ) throws(EncoderError) -> R {
        let h = configuration.hiddenSize
        return try run(sequences, options: options, capturingHiddenStates: false) { context, _ in
            body(UnsafeBufferPointer(start: context.workspace.hidden, count: context.tokens * h), context.sequenceStarts)
        }
    }

    /// Validates and packs the batch into a workspace, runs embeddings and layers, checks that the last hidden
    /// state is finite, and hands the workspace to `finish` while it is still held.
    private func run<R>(
        _ sequences: [TokenSequence], options: ComputeOptions?, capturingHiddenStates capturing: Bool,
        feedForwardMaxima: UnsafeMutablePointer<Float>? = nil, finish: (ForwardContext, [Matrix]) -> R
    ) throws(EncoderError) -> R {
        let options = options ?? defaultOptions
        try options.validate()
        var starts = [0]
        starts.reserveCapacity(sequences.count + 1)
        var maxLength = 0
        for (index, sequence) in sequences.enumerated() {
            try validate(sequence, index: index)
            starts.append(starts[index] + sequence.count)
            maxLength = max(maxLength, sequence.count)
        }
        let tokens = starts[sequences.count]
        let h = configuration.hiddenSize
        let usesTokenTypes = configuration.usesTokenTypes
        let paddingIndex = configuration.positionPaddingIndex
        // One level of threads for OpenBLAS too: `.blas` passes call it inside our workers, and code around `.onednn`
        // passes (search, PCA) splits its OpenBLAS products across our threads as well.
        if options.backend != .naive { OpenBLAS.ensureSingleThreaded() }
        if options.backend == .onednn { try prepareOneDNN(options.precision) }
        return try workspaces.withWorkspace { (workspace: Workspace) throws(EncoderError) -> R in
            workspace.reserve(
                tokens: tokens, maxLength: maxLength, workers: options.threads, oneDNN: options.backend == .onednn)
            var t = 0
            for sequence in sequences {
                // Positions: 0, 1, 2, … or, after a padding index p, Hugging Face's
                // create_position_ids_from_input_ids: p + (count of non-padding tokens so far), p for a padding id.
                var realTokens: Int32 = 0
                for (index, id) in sequence.inputIDs.enumerated() {
                    workspace.tokenIDs[t] = id
                    workspace.tokenTypes[t] = usesTokenTypes ? sequence.tokenTypeIDs?[index] ?? 0 : 0
                    if let p = paddingIndex {
                        if Int(id) != p { realTokens += 1 }
                        workspace.positions[t] = Int(id) == p ? Int32(p) : Int32(p) + realTokens
                    } else {
                        workspace.positions[t] = Int32(index)
                    }
                    t += 1
                }
            }
            var context = ForwardContext(
                backend: options.backend, precision: options.precision, threads: options.threads, workspace: workspace,
                tokens: tokens, sequenceStarts: starts, attentionBias: attentionBias)
            var captured: [Matrix] = []
            embeddings.forward(context)
            if capturing { captured.append(Matrix(copying: workspace.hidden, rows: tokens, columns: h)) }
            for (index, layer) in layers.enumerated() {
                context.feedForwardMaxima = feedForwardMaxima.map { $0 + index * configuration.intermediateSize }
                layer.forward(context)
                if capturing { captured.append(Matrix(copying: workspace.hidden, rows: tokens, columns: h)) }
            }
            if let failure = workspace.oneDNNFailure.withLock({ $0 }) {
                workspace.oneDNNFailure.withLock { $0 = nil }
                throw failure
            }
            // A NaN or infinity anywhere upstream reaches the last hidden state (LayerNorm spreads it over the row).
            if let bad = ElementwiseKernels.firstNonFinite(workspace.hidden, count: tokens * h) {
                let token = bad / h
                let sequence = starts.lastIndex { $0 <= token } ?? 0
                throw .nonFiniteHiddenState(sequence: sequence, position: token - starts[sequence])
            }
            return finish(context, captured)
        }
    }

    private func validate(_ sequence: TokenSequence, index: Int) throws(EncoderError) {
        let config = configuration
        guard sequence.count <= config.maxSequenceLength else {
            let limit = config.positionPaddingIndex.map {
                "the \(config.maxSequenceLength) positions of max_position_embeddings \(config.maxPositionEmbeddings) after padding index \($0)"
            } ?? "max_position_embeddings \(config.maxPositionEmbeddings)"
            throw .invalidInput(
                sequence: index, position: nil, reason: "\(sequence.count) tokens is longer than \(limit)")
        }
        for (position, id) in sequence.inputIDs.enumerated() where id < 0 || Int(id) >= config.vocabSize {
            throw .invalidInput(
                sequence: index, position: position,
                reason: "token id \(id) is outside the vocabulary (vocab_size \(config.vocabSize))")
        }
        // A family without token types ignores them, as its Hugging Face tokenizer does not return them.
        if let types = sequence.tokenTypeIDs, config.usesTokenTypes {
            guard types.count == sequence.count else {
                throw .invalidInput(
                    sequence: index, position: nil,
                    reason: "\(types.count) token type ids for \(sequence.count) tokens")
            }
            for (position, type) in types.enumerated() where type < 0 || Int(type) >= config.typeVocabSize {
                throw .invalidInput(
                    sequence: index, position: position,
                    reason: "token type \(type) is outside type_vocab_size \(config.typeVocabSize)")
            }
        }
    }
}

/// The name the BERT-only encoder had; every family loads through it.
public typealias BertModel = EncoderModel

extension Matrix {
    /// A copy of `rows × columns` floats at `pointer`.
    init(copying pointer: UnsafePointer<Float>, rows: Int, columns: Int) {
        self.init(unchecked: Array(UnsafeBufferPointer(start: pointer, count: rows * columns)), rows: rows, columns: columns)
    }
}
