/// The encoder families this library runs, by `config.json`'s `model_type`.
///
/// All of them are the same computation: embeddings, then layers of self-attention and feed-forward, each
/// followed by a residual LayerNorm (post-norm). What differs is data — key names, where positions start,
/// whether token types exist, an optional attention-score bias — and that data is ``architecture``: the one
/// place a family is described. Loading and the forward pass read it; there is no code per family beyond
/// the one piece that is truly new (MPNet's relative position bias, ``RelativePositionBias``).
public enum EncoderFamily: String, Sendable, CaseIterable, Codable {
    case bert
    case roberta
    case xlmRoberta = "xlm-roberta"
    case distilbert
    case mpnet

    /// The `model_type` values accepted, as `config.json` spells them.
    public static var supportedModelTypes: [String] { allCases.map(\.rawValue) }

    /// How this family's checkpoints and configuration files are laid out.
    var architecture: ArchitectureDescription {
        switch self {
        case .bert: return .bert
        case .roberta: return .roberta(prefix: "roberta.")
        case .xlmRoberta: return .roberta(prefix: "roberta.")
        case .distilbert: return .distilbert
        case .mpnet: return .mpnet
        }
    }
}

/// Everything that distinguishes one encoder family from another, as data.
///
/// Checkpoint names are relative to the model's root (`embeddings…`, `encoder.layer.3…`); a checkpoint saved
/// from a task model (`BertForMaskedLM`, `XLMRobertaForMaskedLM`, …) carries ``rootPrefix`` in front of them,
/// and either form loads. Each module named here holds `weight` and `bias` as Hugging Face saves them.
struct ArchitectureDescription: Sendable {
    // MARK: config.json field names
    /// Field holding the hidden width (`hidden_size`; DistilBERT: `dim`).
    let hiddenSizeField: String
    /// `num_hidden_layers`; DistilBERT: `n_layers`.
    let layerCountField: String
    /// `num_attention_heads`; DistilBERT: `n_heads`.
    let headCountField: String
    /// `intermediate_size`; DistilBERT: `hidden_dim`.
    let intermediateSizeField: String
    /// `hidden_act`; DistilBERT: `activation`.
    let activationField: String
    /// LayerNorm epsilon: read from `layer_norm_eps`, or fixed where the Hugging Face model hard-codes it
    /// (DistilBERT: 1e-12).
    let layerNormEpsilon: LayerNormEpsilon

    // MARK: checkpoint key names
    /// The prefix a task model's checkpoint puts before every encoder key (`bert.`, `roberta.`, …).
    let rootPrefix: String
    /// `embeddings.word_embeddings`, `embeddings.position_embeddings`, `embeddings.LayerNorm`.
    let wordEmbeddings = "embeddings.word_embeddings"
    let positionEmbeddings = "embeddings.position_embeddings"
    let embeddingsLayerNorm = "embeddings.LayerNorm"
    /// `embeddings.token_type_embeddings`, or `nil` for a family without token types.
    let tokenTypeEmbeddings: String?
    /// Whether the model reads token type ids. Where Hugging Face's tokenizer for the family returns none
    /// (`model_input_names` without `token_type_ids`: RoBERTa, XLM-R, DistilBERT, MPNet), the model always sees
    /// type 0 in sentence-transformers and cross-encoder pipelines, so ids a caller passes are ignored.
    let readsTokenTypeIDs: Bool
    /// Layer `i`'s scope: `"\(layerPrefix).\(i)"`.
    let layerPrefix: String
    /// Inside a layer: the attention's query, key, value and output projections and its LayerNorm.
    let query: String
    let key: String
    let value: String
    let attentionOutput: String
    let attentionLayerNorm: String
    /// Inside a layer: the feed-forward's two projections and its LayerNorm.
    let intermediate: String
    let output: String
    let outputLayerNorm: String

    // MARK: computation
    /// Where position ids start.
    let positions: PositionIDs
    /// An additive bias on the attention scores (between Q·Kᵀ/√d and softmax), or `nil`.
    let attentionBias: AttentionBias?

    /// Buckets the attention bias uses (0 without one).
    var bucketsUsed: Int {
        if case let .relativePositionBuckets(_, _, buckets, _) = attentionBias { return buckets }
        return 0
    }

    enum LayerNormEpsilon: Sendable {
        case field(String, default: Double)
        case fixed(Float)
    }

    enum PositionIDs: Sendable, Equatable {
        /// 0, 1, 2, … (BERT, DistilBERT).
        case fromZero
        /// After a padding index p, as Hugging Face's `create_position_ids_from_input_ids`: the k-th token that
        /// is not the padding id gets p + k (k from 1), a token equal to the padding id gets p. The usable
        /// length is `max_position_embeddings - p - 1`. RoBERTa and XLM-R take p from `pad_token_id`.
        case afterPadTokenID
        /// The same with a padding index fixed by the Hugging Face model (MPNet: 1, whatever `pad_token_id` says).
        case afterPaddingIndex(Int)
    }

    enum AttentionBias: Sendable, Equatable {
        /// MPNet: T5-style bidirectional relative position buckets, one learned scalar per (bucket, head),
        /// from `tensor` of shape (`relative_attention_num_buckets`, heads). `buckets` is the count Hugging
        /// Face's `MPNetEncoder.compute_position_bias` uses (its default 32, whatever the field says).
        case relativePositionBuckets(tensor: String, bucketsField: String, buckets: Int, maxDistance: Int)
    }

    static let bert = ArchitectureDescription(
        hiddenSizeField: "hidden_size", layerCountField: "num_hidden_layers", headCountField: "num_attention_heads",
        intermediateSizeField: "intermediate_size", activationField: "hidden_act",
        layerNormEpsilon: .field("layer_norm_eps", default: 1e-12),
        rootPrefix: "bert.", tokenTypeEmbeddings: "embeddings.token_type_embeddings", readsTokenTypeIDs: true,
        layerPrefix: "encoder.layer",
        query: "attention.self.query", key: "attention.self.key", value: "attention.self.value",
        attentionOutput: "attention.output.dense", attentionLayerNorm: "attention.output.LayerNorm",
        intermediate: "intermediate.dense", output: "output.dense", outputLayerNorm: "output.LayerNorm",
        positions: .fromZero, attentionBias: nil)

    /// RoBERTa and XLM-RoBERTa: BERT's modules, positions after `pad_token_id`, a token type table
    /// (`type_vocab_size` 1) whose row 0 is always added.
    static func roberta(prefix: String) -> ArchitectureDescription {
        ArchitectureDescription(
            hiddenSizeField: "hidden_size", layerCountField: "num_hidden_layers", headCountField: "num_attention_heads",
            intermediateSizeField: "intermediate_size", activationField: "hidden_act",
            layerNormEpsilon: .field("layer_norm_eps", default: 1e-12),
            rootPrefix: prefix, tokenTypeEmbeddings: "embeddings.token_type_embeddings", readsTokenTypeIDs: false,
            layerPrefix: "encoder.layer",
            query: "attention.self.query", key: "attention.self.key", value: "attention.self.value",
            attentionOutput: "attention.output.dense", attentionLayerNorm: "attention.output.LayerNorm",
            intermediate: "intermediate.dense", output: "output.dense", outputLayerNorm: "output.LayerNorm",
            positions: .afterPadTokenID, attentionBias: nil)
    }

    static let distilbert = ArchitectureDescription(
        hiddenSizeField: "dim", layerCountField: "n_layers", headCountField: "n_heads",
        intermediateSizeField: "hidden_dim", activationField: "activation",
        layerNormEpsilon: .fixed(1e-12),
        rootPrefix: "distilbert.", tokenTypeEmbeddings: nil, readsTokenTypeIDs: false, layerPrefix: "transformer.layer",
        query: "attention.q_lin", key: "attention.k_lin", value: "attention.v_lin",
        attentionOutput: "attention.out_lin", attentionLayerNorm: "sa_layer_norm",
        intermediate: "ffn.lin1", output: "ffn.lin2", outputLayerNorm: "output_layer_norm",
        positions: .fromZero, attentionBias: nil)

    static let mpnet = ArchitectureDescription(
        hiddenSizeField: "hidden_size", layerCountField: "num_hidden_layers", headCountField: "num_attention_heads",
        intermediateSizeField: "intermediate_size", activationField: "hidden_act",
        layerNormEpsilon: .field("layer_norm_eps", default: 1e-12),
        rootPrefix: "mpnet.", tokenTypeEmbeddings: nil, readsTokenTypeIDs: false, layerPrefix: "encoder.layer",
        query: "attention.attn.q", key: "attention.attn.k", value: "attention.attn.v",
        attentionOutput: "attention.attn.o", attentionLayerNorm: "attention.LayerNorm",
        intermediate: "intermediate.dense", output: "output.dense", outputLayerNorm: "output.LayerNorm",
        positions: .afterPaddingIndex(1),
        attentionBias: .relativePositionBuckets(
            tensor: "encoder.relative_attention_bias", bucketsField: "relative_attention_num_buckets",
            buckets: 32, maxDistance: 128))
}
