import Foundation
import JSONCore

/// The architecture of an encoder, decoded from a Hugging Face `config.json`.
///
/// `model_type` chooses the ``EncoderFamily`` (BERT, RoBERTa, XLM-RoBERTa, DistilBERT, MPNet), and the family's
/// ``ArchitectureDescription`` says which fields to read: property names follow BERT's fields (`hidden_size`,
/// `num_attention_heads`, …) whatever the family calls them (DistilBERT's `dim`, `n_heads`, …). Anything this
/// encoder does not implement (another `model_type`, relative position embeddings, an unknown activation) or
/// any inconsistent size is an ``EncoderError`` naming the file and field.
///
/// Every field is a `let` and every initializer validates: a configuration that exists is consistent.
public struct EncoderConfiguration: Sendable, Equatable {
    /// `model_type`.
    public let family: EncoderFamily
    /// `hidden_size` (DistilBERT: `dim`): width of every token's hidden state.
    public let hiddenSize: Int
    /// `num_hidden_layers` (DistilBERT: `n_layers`).
    public let numHiddenLayers: Int
    /// `num_attention_heads` (DistilBERT: `n_heads`); divides `hiddenSize`.
    public let numAttentionHeads: Int
    /// `intermediate_size` (DistilBERT: `hidden_dim`): width of the feed-forward layer.
    public let intermediateSize: Int
    /// `hidden_act` (DistilBERT: `activation`).
    public let hiddenAct: Activation
    /// `layer_norm_eps` (DistilBERT: 1e-12, fixed by its Hugging Face model).
    public let layerNormEps: Float
    /// `max_position_embeddings`: rows of the position table (see ``maxSequenceLength`` for the usable length).
    public let maxPositionEmbeddings: Int
    /// `type_vocab_size`; 1 for a family without token types.
    public let typeVocabSize: Int
    /// `vocab_size`.
    public let vocabSize: Int
    /// `pad_token_id`.
    public let padTokenID: Int
    /// MPNet's `relative_attention_num_buckets` (rows of its relative position bias); 0 for other families.
    public let relativeAttentionNumBuckets: Int

    /// Width of one attention head: `hiddenSize / numAttentionHeads`.
    public var headSize: Int { hiddenSize / numAttentionHeads }

    /// The padding index positions are counted after (RoBERTa, XLM-R: `pad_token_id`; MPNet: 1), or `nil`
    /// when positions start at 0 (BERT, DistilBERT).
    public var positionPaddingIndex: Int? {
        switch family.architecture.positions {
        case .fromZero: return nil
        case .afterPadTokenID: return padTokenID
        case let .afterPaddingIndex(index): return index
        }
    }

    /// The longest sequence the model accepts: `max_position_embeddings`, less `padding index + 1` for the
    /// families whose positions start after the padding index (514 → 512 for RoBERTa and MPNet).
    public var maxSequenceLength: Int {
        positionPaddingIndex.map { maxPositionEmbeddings - $0 - 1 } ?? maxPositionEmbeddings
    }

    /// Whether the model reads token type (segment) ids: BERT only. The other families ignore the ids a caller
    /// passes, as Hugging Face's tokenizers for them return none (RoBERTa and XLM-R still add their type
    /// table's row 0 to every token).
    public var usesTokenTypes: Bool { family.architecture.readsTokenTypeIDs }

    /// Limits that keep a hostile `config.json` from asking for absurd allocations.
    static let maximumWidth = 1 << 16
    static let maximumLayers = 1024
    static let maximumVocabulary = 1 << 24
    static let maximumPositions = 1 << 20
    static let maximumBuckets = 1 << 12

    /// A configuration given field by field; checked like one read from a file.
    public init(
        family: EncoderFamily = .bert,
        hiddenSize: Int, numHiddenLayers: Int, numAttentionHeads: Int, intermediateSize: Int,
        hiddenAct: Activation = .gelu, layerNormEps: Float = 1e-12, maxPositionEmbeddings: Int = 512,
        typeVocabSize: Int = 2, vocabSize: Int, padTokenID: Int = 0, relativeAttentionNumBuckets: Int? = nil
    ) throws(EncoderError) {
        self.family = family
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
        self.relativeAttentionNumBuckets = relativeAttentionNumBuckets ?? family.architecture.bucketsUsed
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
        guard let family = EncoderFamily(rawValue: modelType) else {
            throw .unsupportedModelType(path: path, modelType: modelType, supported: EncoderFamily.supportedModelTypes)
        }
        let architecture = family.architecture
        let positionType = try fields.string("position_embedding_type", default: "absolute")
        guard positionType == "absolute" else {
            throw .unsupported(path: path, field: "position_embedding_type", value: positionType)
        }
        let actName = try fields.string(architecture.activationField, default: "gelu")
        guard let activation = Activation(huggingFaceName: actName) else {
            throw .unsupported(path: path, field: architecture.activationField, value: actName)
        }
        self.family = family
        hiddenSize = try fields.int(architecture.hiddenSizeField, range: 1...Self.maximumWidth)
        numHiddenLayers = try fields.int(architecture.layerCountField, range: 1...Self.maximumLayers)
        numAttentionHeads = try fields.int(architecture.headCountField, range: 1...Self.maximumWidth)
        intermediateSize = try fields.int(architecture.intermediateSizeField, range: 1...(4 * Self.maximumWidth))
        hiddenAct = activation
        switch architecture.layerNormEpsilon {
        case let .field(name, fallback):
            layerNormEps = Float(try fields.double(name, default: fallback, range: 0...1))
        case let .fixed(value):
            layerNormEps = value
        }
        maxPositionEmbeddings = try fields.int("max_position_embeddings", range: 1...Self.maximumPositions)
        typeVocabSize = architecture.tokenTypeEmbeddings == nil
            ? 1 : try fields.int("type_vocab_size", default: 2, range: 1...Self.maximumVocabulary)
        vocabSize = try fields.int("vocab_size", range: 1...Self.maximumVocabulary)
        padTokenID = try fields.int("pad_token_id", default: 0, range: 0...Self.maximumVocabulary)
        if case let .relativePositionBuckets(_, bucketsField, buckets, _) = architecture.attentionBias {
            relativeAttentionNumBuckets = try fields.int(bucketsField, default: buckets, range: 1...Self.maximumBuckets)
        } else {
            relativeAttentionNumBuckets = 0
        }
        try validate(path: path)
    }

    private func validate(path: String) throws(EncoderError) {
        func check(_ ok: Bool, _ field: String, _ reason: String) throws(EncoderError) {
            if !ok { throw .invalidField(path: path, field: field, reason: reason) }
        }
        let names = family.architecture
        try check(hiddenSize > 0 && hiddenSize <= Self.maximumWidth, names.hiddenSizeField, "is \(hiddenSize), must be in 1...\(Self.maximumWidth)")
        try check(numHiddenLayers > 0 && numHiddenLayers <= Self.maximumLayers, names.layerCountField, "is \(numHiddenLayers), must be in 1...\(Self.maximumLayers)")
        try check(numAttentionHeads > 0, names.headCountField, "is \(numAttentionHeads), must be positive")
        try check(hiddenSize % numAttentionHeads == 0, names.headCountField,
                  "is \(numAttentionHeads), which does not divide \(names.hiddenSizeField) \(hiddenSize)")
        try check(intermediateSize > 0 && intermediateSize <= 4 * Self.maximumWidth, names.intermediateSizeField, "is \(intermediateSize), out of range")
        try check(layerNormEps >= 0 && layerNormEps.isFinite, "layer_norm_eps", "is \(layerNormEps), must be a non-negative number")
        try check(maxPositionEmbeddings > 0 && maxPositionEmbeddings <= Self.maximumPositions, "max_position_embeddings", "is \(maxPositionEmbeddings), out of range")
        try check(typeVocabSize > 0 && typeVocabSize <= Self.maximumVocabulary, "type_vocab_size", "is \(typeVocabSize), out of range")
        try check(names.tokenTypeEmbeddings != nil || typeVocabSize == 1, "type_vocab_size",
                  "is \(typeVocabSize), but \(family.rawValue) has no token types")
        try check(vocabSize > 0 && vocabSize <= Self.maximumVocabulary, "vocab_size", "is \(vocabSize), out of range")
        try check(padTokenID >= 0 && padTokenID < vocabSize, "pad_token_id", "is \(padTokenID), outside the vocabulary of \(vocabSize)")
        if let padding = positionPaddingIndex {
            try check(maxSequenceLength >= 1, "max_position_embeddings",
                      "is \(maxPositionEmbeddings), which leaves no position after the padding index \(padding)")
        }
        if case let .relativePositionBuckets(_, bucketsField, buckets, _) = names.attentionBias {
            // Hugging Face's MPNetEncoder buckets with 32 whatever the field says; the table must have them.
            try check(relativeAttentionNumBuckets >= buckets && relativeAttentionNumBuckets <= Self.maximumBuckets,
                      bucketsField, "is \(relativeAttentionNumBuckets), must be in \(buckets)...\(Self.maximumBuckets)")
        } else {
            try check(relativeAttentionNumBuckets == 0, "relative_attention_num_buckets",
                      "is \(relativeAttentionNumBuckets), but \(family.rawValue) has no relative attention bias")
        }
        // Parameter count must stay allocatable: word embeddings and layers, in floats.
        let perLayer = 4 * hiddenSize * hiddenSize + 2 * hiddenSize * intermediateSize
        let (layers, o1) = perLayer.multipliedReportingOverflow(by: numHiddenLayers)
        let (embeddings, o2) = vocabSize.multipliedReportingOverflow(by: hiddenSize)
        try check(!o1 && !o2 && layers <= (1 << 36) && embeddings <= (1 << 36), names.hiddenSizeField,
                  "with these sizes the model would exceed 256 GiB of weights")
    }
}

/// The name the BERT-only encoder had; every family loads through it.
public typealias BertConfiguration = EncoderConfiguration
