// libFuzzer target: the config.json decoder (JSONFile + EncoderConfiguration in Sources/TransformerEncoder).
//
// Built by Scripts/fuzz in one module with EncoderConfiguration.swift, EncoderFamily.swift, JSONFile.swift,
// EncoderError.swift and Activation.swift (the files the decoder needs), against the SafeTensors and Tokenizers modules, so the
// internal `EncoderConfiguration(json:path:)` is reachable. Every input must either decode into a configuration
// whose sizes are consistent and allocatable, or throw an EncoderError naming the file.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func configFuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 || data == nil ? Data() : Data(bytes: data!, count: size)
    let path = "<fuzz>/config.json"
    do {
        let object = try JSONFile.object(from: bytes, path: path)
        let config = try EncoderConfiguration(json: object, path: path)
        precondition(config.hiddenSize > 0 && config.hiddenSize <= EncoderConfiguration.maximumWidth)
        precondition(config.numAttentionHeads > 0 && config.hiddenSize % config.numAttentionHeads == 0)
        precondition(config.headSize * config.numAttentionHeads == config.hiddenSize)
        precondition(config.numHiddenLayers > 0 && config.intermediateSize > 0)
        precondition(config.vocabSize > 0 && config.typeVocabSize > 0 && config.maxPositionEmbeddings > 0)
        precondition(config.maxSequenceLength >= 1 && config.maxSequenceLength <= config.maxPositionEmbeddings)
        precondition(config.padTokenID >= 0 && config.padTokenID < config.vocabSize)
        precondition(config.layerNormEps.isFinite && config.layerNormEps >= 0)
        // The weights the loader would ask the checkpoint for must have a representable size.
        let (embeddings, o1) = config.vocabSize.multipliedReportingOverflow(by: config.hiddenSize)
        let (perLayer, o2) = config.hiddenSize.multipliedReportingOverflow(by: config.intermediateSize)
        precondition(!o1 && !o2 && embeddings <= 1 << 36 && perLayer <= 1 << 36)
        // Round trip through the public initializer: same checks, same result.
        let again = try EncoderConfiguration(
            family: config.family, hiddenSize: config.hiddenSize, numHiddenLayers: config.numHiddenLayers,
            numAttentionHeads: config.numAttentionHeads, intermediateSize: config.intermediateSize,
            hiddenAct: config.hiddenAct, layerNormEps: config.layerNormEps,
            maxPositionEmbeddings: config.maxPositionEmbeddings, typeVocabSize: config.typeVocabSize,
            vocabSize: config.vocabSize, padTokenID: config.padTokenID,
            relativeAttentionNumBuckets: config.relativeAttentionNumBuckets)
        precondition(again == config, "public initializer disagrees with the decoder")
    } catch {
        let text = error.description
        switch error {
        case .checkpoint, .tokenizer, .invalidInput, .invalidArgument:
            preconditionFailure("unexpected error kind for a config file: \(text)")
        default:
            precondition(text.hasPrefix(path), "error does not name the file: \(text)")
        }
    }
    return 0
}
