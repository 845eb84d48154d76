import Foundation

/// The text-side settings of a sentence-transformers folder: truncation length, lowercasing and prompts.
///
/// - `sentence_bert_config.json` (in the Transformer module's folder): `max_seq_length`, `do_lower_case`.
/// - `tokenizer_config.json`: `model_max_length`, the truncation length sentence-transformers ≥ 5 saves
///   there instead of `max_seq_length`.
/// - `config_sentence_transformers.json`: `prompts` (name → text put before every input) and
///   `default_prompt_name` (the prompt used when a call names none).
public struct SentenceTransformerConfiguration: Sendable, Equatable {
    /// `max_seq_length`, else the tokenizer's `model_max_length`; `nil` when neither is set (the model's
    /// position limit applies).
    public let maxSequenceLength: Int?
    /// `do_lower_case`: texts (and prompts) are lowercased before tokenization, as sentence-transformers
    /// does by putting a `Lowercase` normalizer in front of the tokenizer's.
    public let lowercasesText: Bool
    /// Named prompts.
    public let prompts: [String: String]
    /// The prompt used when a call gives neither a prompt nor a prompt name.
    public let defaultPromptName: String?

    /// Settings given in code.
    public init(
        maxSequenceLength: Int? = nil, lowercasesText: Bool = false, prompts: [String: String] = [:],
        defaultPromptName: String? = nil
    ) {
        self.maxSequenceLength = maxSequenceLength
        self.lowercasesText = lowercasesText
        self.prompts = prompts
        self.defaultPromptName = defaultPromptName
    }

    /// Reads the files of `modelFolder` (prompts) and `transformerFolder` (the rest); absent files leave defaults.
    public init(modelFolder: URL, transformerFolder: URL) throws(EncoderError) {
        var maxLength: Int?
        var lowercase = false
        let sentenceConfig = transformerFolder.appendingPathComponent("sentence_bert_config.json")
        if ModelFolder.kind(of: sentenceConfig.path) != .missing {
            let fields = JSONFields(object: try JSONFile.object(at: sentenceConfig), path: sentenceConfig.path)
            if fields.has("max_seq_length") {
                maxLength = try fields.int("max_seq_length", range: 2...Int(Int32.max))
            }
            lowercase = try fields.bool("do_lower_case", default: false)
        }
        let tokenizerConfig = transformerFolder.appendingPathComponent("tokenizer_config.json")
        if maxLength == nil, ModelFolder.kind(of: tokenizerConfig.path) != .missing {
            let object = try JSONFile.object(at: tokenizerConfig)
            // Hugging Face writes 1e30 for "no limit"; anything beyond Int32 means the same.
            if let number = object["model_max_length"]?.doubleValue,
               number >= 2, number <= Double(Int32.max), number.rounded() == number {
                maxLength = Int(number)
            }
        }
        var prompts: [String: String] = [:]
        var defaultPromptName: String?
        let stConfig = modelFolder.appendingPathComponent("config_sentence_transformers.json")
        if ModelFolder.kind(of: stConfig.path) != .missing {
            let fields = JSONFields(object: try JSONFile.object(at: stConfig), path: stConfig.path)
            if fields.has("prompts") {
                guard let table = fields.object["prompts"]?.objectValue else {
                    throw .invalidField(path: stConfig.path, field: "prompts", reason: "is not an object of strings")
                }
                for (name, value) in table {
                    guard let text = value.stringValue else {
                        throw .invalidField(path: stConfig.path, field: "prompts.\(name)", reason: "is not a string")
                    }
                    prompts[name] = text
                }
            }
            if fields.has("default_prompt_name") {
                let name = try fields.string("default_prompt_name")
                guard prompts[name] != nil else {
                    throw .invalidField(
                        path: stConfig.path, field: "default_prompt_name",
                        reason: "is '\(name)', which is not in prompts (\(prompts.keys.sorted().joined(separator: ", ")))")
                }
                defaultPromptName = name
            }
        }
        self.init(maxSequenceLength: maxLength, lowercasesText: lowercase, prompts: prompts, defaultPromptName: defaultPromptName)
    }

    /// The prompt a call uses, as sentence-transformers resolves it: `prompt` when given (even empty), else
    /// the prompt named `promptName`, else the default prompt, else none.
    /// - Throws: ``EncoderError/invalidArgument(name:reason:)`` for a prompt name the folder does not define.
    public func resolvePrompt(_ prompt: String?, promptName: String?) throws(EncoderError) -> String? {
        if let prompt { return prompt }
        if let promptName {
            guard let text = prompts[promptName] else {
                let known = prompts.keys.sorted()
                throw .invalidArgument(
                    name: "promptName",
                    reason: "'\(promptName)' is not one of the model's prompts"
                        + (known.isEmpty ? " (it defines none)" : " (\(known.joined(separator: ", ")))"))
            }
            return text
        }
        return defaultPromptName.flatMap { prompts[$0] }
    }
}
