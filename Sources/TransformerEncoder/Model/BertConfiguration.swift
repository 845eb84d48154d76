import Foundation
import JSONCore

/// The architecture of a BERT-family encoder, decoded from a Hugging Face `config.json`.
///
/// Field names follow the file (`hidden_size`, `num_attention_heads`, …). Anything this encoder does not
/// implement (another `model_type`, relative position embeddings, an unknown `hidden_act`) or any
/// inconsistent size is an ``EncoderError`` naming the field and its value.
public struct BertConfiguration: Sendable, Equatable {
    /// `hidden_size`: width of every token's hidden state.
    public var hiddenSize: Int
    /// `num_hidden_layers`.
    public var numHiddenLayers: Int
    /// `num_attention_heads`; divides `hiddenSize`.
    public var numAttentionHeads: Int
    /// `intermediate_size`: width of the feed-forward layer.
    public var intermediateSize: Int
    /// `hidden_act`.
    public var hiddenAct: Activation
    /// `layer_norm_eps`.
    public var layerNormEps: Float
    /// `max_position_embeddings`: the longest sequence the model accepts.
    public var maxPositionEmbeddings: Int
    /// `type_vocab_size`.
    public var typeVocabSize: Int
    /// `vocab_size`.
    public var vocabSize: Int
    /// `pad_token_id`.
    public var padTokenID: Int

    /// Width of one attention head: `hiddenSize / numAttentionHeads`.
    public var headSize: Int { hiddenSize / numAttentionHeads }

    /// Limits that keep a hostile `config.json` from asking for absurd allocations.
    static let maximumWidth = 1 << 16
    static let maximumLayers = 1024
    static let maximumVocabulary = 1 << 24
    static let maximumPositions = 1 << 20

    /// A configuration given field by field; checked like one read from a file.
    public init(
        hiddenSize: Int, numHiddenLayers: Int, numAttentionHeads: Int, intermediateSize: Int,
        hiddenAct: Activation = .gelu, layerNormEps: Float = 1e-12, maxPositionEmbeddings: Int = 512,
        typeVocabSize: Int = 2, vocabSize: Int, padTokenID: Int = 0
    ) throws(EncoderError) {
        self.hiddenSize = hiddenSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.intermediateSize = intermediateSize
        self.hiddenAct = hiddenAct
        self.layerNormEps = layerNormEps
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.typeVocabSize = typeVocabSize
        self.vocabSize = vocabSize
        self.padTokenID = padTokenID
        try validate(path: "<configuration>")
    }

    /// Reads `config.json`.
    public init(contentsOf url: URL) throws(EncoderError) {
        try self.init(json: JSONFile.object(at: url), path: url.path)
    }

    /// Decodes the fields of a parsed `config.json`; `path` names the file in errors.
    init(json: [String: JSONValue], path: String) throws(EncoderError) {
        let fields = JSONFields(object: json, path: path)
        let modelType = try fields.string("model_type", default: "bert")
        // RoBERTa-style models offset positions by pad_token_id + 1: not implemented, so refused.
        guard modelType == "bert" else {
            throw .unsupported(path: path, field: "model_type", value: modelType)
        }
        let positionType = try fields.string("position_embedding_type", default: "absolute")
        guard positionType == "absolute" else {
            throw .unsupported(path: path, field: "position_embedding_type", value: positionType)
        }
        let actName = try fields.string("hidden_act", default: "gelu")
        guard let activation = Activation(huggingFaceName: actName) else {
            throw .unsupported(path: path, field: "hidden_act", value: actName)
        }
        hiddenSize = try fields.int("hidden_size", range: 1...Self.maximumWidth)
        numHiddenLayers = try fields.int("num_hidden_layers", range: 1...Self.maximumLayers)
        numAttentionHeads = try fields.int("num_attention_heads", range: 1...Self.maximumWidth)
        intermediateSize = try fields.int("intermediate_size", range: 1...(4 * Self.maximumWidth))
        hiddenAct = activation
        layerNormEps = Float(try fields.double("layer_norm_eps", default: 1e-12, range: 0...1))
        maxPositionEmbeddings = try fields.int("max_position_embeddings", range: 1...Self.maximumPositions)
        typeVocabSize = try fields.int("type_vocab_size", default: 2, range: 1...Self.maximumVocabulary)
        vocabSize = try fields.int("vocab_size", range: 1...Self.maximumVocabulary)
        padTokenID = try fields.int("pad_token_id", default: 0, range: 0...Self.maximumVocabulary)
        try validate(path: path)
    }

    private func validate(path: String) throws(EncoderError) {
        func check(_ ok: Bool, _ field: String, _ reason: String) throws(EncoderError) {
            if !ok { throw .invalidField(path: path, field: field, reason: reason) }
        }
        try check(hiddenSize > 0 && hiddenSize <= Self.maximumWidth, "hidden_size", "is \(hiddenSize), must be in 1...\(Self.maximumWidth)")
        try check(numHiddenLayers > 0 && numHiddenLayers <= Self.maximumLayers, "num_hidden_layers", "is \(numHiddenLayers), must be in 1...\(Self.maximumLayers)")
        try check(numAttentionHeads > 0, "num_attention_heads", "is \(numAttentionHeads), must be positive")
        try check(hiddenSize % numAttentionHeads == 0, "num_attention_heads",
                  "is \(numAttentionHeads), which does not divide hidden_size \(hiddenSize)")
        try check(intermediateSize > 0 && intermediateSize <= 4 * Self.maximumWidth, "intermediate_size", "is \(intermediateSize), out of range")
        try check(layerNormEps >= 0 && layerNormEps.isFinite, "layer_norm_eps", "is \(layerNormEps), must be a non-negative number")
        try check(maxPositionEmbeddings > 0 && maxPositionEmbeddings <= Self.maximumPositions, "max_position_embeddings", "is \(maxPositionEmbeddings), out of range")
        try check(typeVocabSize > 0 && typeVocabSize <= Self.maximumVocabulary, "type_vocab_size", "is \(typeVocabSize), out of range")
        try check(vocabSize > 0 && vocabSize <= Self.maximumVocabulary, "vocab_size", "is \(vocabSize), out of range")
        try check(padTokenID >= 0 && padTokenID < vocabSize, "pad_token_id", "is \(padTokenID), outside the vocabulary of \(vocabSize)")
        // Parameter count must stay allocatable: word embeddings and layers, in floats.
        let perLayer = 4 * hiddenSize * hiddenSize + 2 * hiddenSize * intermediateSize
        let (layers, o1) = perLayer.multipliedReportingOverflow(by: numHiddenLayers)
        let (embeddings, o2) = vocabSize.multipliedReportingOverflow(by: hiddenSize)
        try check(!o1 && !o2 && layers <= (1 << 36) && embeddings <= (1 << 36), "hidden_size",
                  "with these sizes the model would exceed 256 GiB of weights")
    }
}
