import Foundation
import SafeTensors

/// A BERT encoder with weights from a Hugging Face checkpoint (`config.json` + `model.safetensors`).
///
/// The weights are memory-mapped and shared; activations live in reusable workspaces. A model is
/// immutable and `Sendable`: many tasks may encode with one model at once.
public final class BertModel: Sendable {
    /// The architecture, from `config.json`.
    public let configuration: BertConfiguration
    /// Backend and threads used when a call does not say otherwise.
    public let defaultOptions: ComputeOptions

    let embeddings: BertEmbeddings
    let layers: [BertLayer]
    private let storage: WeightStorage
    private let file: SafeTensorsFile
    private let workspaces: WorkspacePool

    /// Loads `config.json` and `model.safetensors` from a Hugging Face model folder.
    public convenience init(folder: URL, options: ComputeOptions = ComputeOptions()) throws(EncoderError) {
        let configuration = try BertConfiguration(contentsOf: folder.appendingPathComponent("config.json"))
        try self.init(
            configuration: configuration, checkpoint: folder.appendingPathComponent("model.safetensors"),
            options: options)
    }

    /// Loads the weights in `checkpoint` (a safetensors file) for `configuration`.
    /// Every tensor's shape is checked against the configuration; keys may carry a `bert.` prefix.
    public init(configuration: BertConfiguration, checkpoint: URL, options: ComputeOptions = ComputeOptions()) throws(EncoderError) {
        let file: SafeTensorsFile
        do {
            file = try SafeTensorsFile(contentsOf: checkpoint)
        } catch {
            throw .checkpoint(error)
        }
        let storage = WeightStorage()
        let root = CheckpointScope(file: file, storage: storage)
        self.embeddings = try BertEmbeddings.load(root.scope("embeddings"), configuration)
        var layers: [BertLayer] = []
        for index in 0..<configuration.numHiddenLayers {
            layers.append(try BertLayer.load(root.scope("encoder.layer.\(index)"), configuration))
        }
        self.layers = layers
        self.configuration = configuration
        self.defaultOptions = options
        self.storage = storage
        self.file = file
        self.workspaces = WorkspacePool(
            hiddenSize: configuration.hiddenSize, intermediateSize: configuration.intermediateSize)
        // The encoder threads its own work; OpenBLAS runs single-threaded inside it (one level of threads).
        OpenBLAS.setThreadCount(1)
    }

    /// Runs the encoder on a batch of sequences of any lengths.
    ///
    /// - Parameters:
    ///   - sequences: token ids with special tokens; lengths may differ (no padding is needed or computed).
    ///   - outputHiddenStates: also return every layer's output (`hidden_states.0…N`), for comparison with a reference.
    ///   - options: backend and threads; the model's ``defaultOptions`` when `nil`.
    /// - Returns: every real token's last hidden state, packed: (tokens, hidden).
    /// - Throws: ``EncoderError/invalidInput(sequence:position:reason:)`` for an id outside the vocabulary,
    ///   a token type outside `type_vocab_size`, or a sequence longer than `max_position_embeddings`.
    public func encode(
        _ sequences: [TokenSequence], outputHiddenStates: Bool = false, options: ComputeOptions? = nil
    ) throws(EncoderError) -> EncoderOutput {
        let h = configuration.hiddenSize
        return try run(sequences, options: options, capturingHiddenStates: outputHiddenStates) { context, captured in
            let output = Matrix(copying: context.workspace.hidden, rows: context.tokens, columns: h)
            return EncoderOutput(lastHiddenState: output, sequenceStarts: context.sequenceStarts, hiddenStates: captured)
        }
    }

    /// Validates and packs the batch into a workspace, runs embeddings and layers, and hands the
    /// workspace to `finish` while it is still held.
    private func run<R>(
        _ sequences: [TokenSequence], options: ComputeOptions?, capturingHiddenStates capturing: Bool,
        finish: (ForwardContext, [Matrix]) -> R
    ) throws(EncoderError) -> R {
        let options = options ?? defaultOptions
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
        return workspaces.withWorkspace { workspace in
            workspace.reserve(tokens: tokens, maxLength: maxLength, workers: options.threads)
            var t = 0
            for sequence in sequences {
                for (position, id) in sequence.inputIDs.enumerated() {
                    workspace.tokenIDs[t] = id
                    workspace.tokenTypes[t] = sequence.tokenTypeIDs?[position] ?? 0
                    workspace.positions[t] = Int32(position)
                    t += 1
                }
            }
            let context = ForwardContext(
                backend: options.backend, threads: options.threads, workspace: workspace,
                tokens: tokens, sequenceStarts: starts)
            var captured: [Matrix] = []
            embeddings.forward(context)
            if capturing { captured.append(Matrix(copying: workspace.hidden, rows: tokens, columns: h)) }
            for layer in layers {
                layer.forward(context)
                if capturing { captured.append(Matrix(copying: workspace.hidden, rows: tokens, columns: h)) }
            }
            return finish(context, captured)
        }
    }

    private func validate(_ sequence: TokenSequence, index: Int) throws(EncoderError) {
        let config = configuration
        guard sequence.count <= config.maxPositionEmbeddings else {
            throw .invalidInput(
                sequence: index, position: nil,
                reason: "\(sequence.count) tokens is longer than max_position_embeddings \(config.maxPositionEmbeddings)")
        }
        for (position, id) in sequence.inputIDs.enumerated() where id < 0 || Int(id) >= config.vocabSize {
            throw .invalidInput(
                sequence: index, position: position,
                reason: "token id \(id) is outside the vocabulary (vocab_size \(config.vocabSize))")
        }
        if let types = sequence.tokenTypeIDs {
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

extension Matrix {
    /// A copy of `rows × columns` floats at `pointer`.
    init(copying pointer: UnsafePointer<Float>, rows: Int, columns: Int) {
        self.init(unchecked: Array(UnsafeBufferPointer(start: pointer, count: rows * columns)), rows: rows, columns: columns)
    }
}
