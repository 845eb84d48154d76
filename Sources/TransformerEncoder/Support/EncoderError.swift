import SafeTensors
import Tokenizers

/// Everything that can go wrong when loading a model folder or encoding input, each case naming the
/// file, field, tensor, sequence or position concerned.
public enum EncoderError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A file of the model folder is missing or cannot be read.
    case unreadableFile(path: String, reason: String)
    /// A JSON file is not valid JSON, or not of the expected form.
    case malformedJSON(path: String, reason: String)
    /// A field of a configuration file is missing, of the wrong type, or out of range.
    case invalidField(path: String, field: String, reason: String)
    /// The configuration describes a model this encoder does not implement.
    case unsupported(path: String, field: String, value: String)
    /// `config.json`'s `model_type` is not one of the families this encoder runs (`supported`).
    case unsupportedModelType(path: String, modelType: String, supported: [String])
    /// A weight of the checkpoint at `path` is NaN or infinite: `tensor` names it, `index` is the first bad element.
    case nonFiniteWeight(path: String, tensor: String, index: Int)
    /// The forward pass produced a NaN or infinite hidden state (weights that overflow on this input):
    /// `sequence` is its index in the batch, `position` the first such token.
    case nonFiniteHiddenState(sequence: Int, position: Int)
    /// A problem with the checkpoint (`model.safetensors`).
    case checkpoint(SafeTensorsError)
    /// A problem with the tokenizer files.
    case tokenizer(TokenizerError)
    /// A sequence handed to the encoder is invalid: `sequence` is its index in the batch, `position` the token.
    case invalidInput(sequence: Int, position: Int?, reason: String)
    /// An option passed by the caller is out of range.
    case invalidArgument(name: String, reason: String)
    /// `precision` cannot run on `backend`, or not fast on this CPU (never silently slow): `reason` says why.
    case unsupportedPrecision(precision: String, backend: String, reason: String)
    /// oneDNN refused `operation` with status `status` (a `dnnl_status_t`, named in the description).
    case oneDNN(operation: String, status: String)

    /// One line naming the file, field, sequence or argument concerned, and what is wrong.
    public var description: String {
        switch self {
        case let .unreadableFile(path, reason): return "\(path): \(reason)"
        case let .malformedJSON(path, reason): return "\(path): \(reason)"
        case let .invalidField(path, field, reason): return "\(path): field '\(field)' \(reason)"
        case let .unsupported(path, field, value): return "\(path): unsupported \(field) '\(value)'"
        case let .unsupportedModelType(path, modelType, supported):
            return "\(path): unsupported model_type '\(modelType)' (supported: \(supported.joined(separator: ", ")))"
        case let .nonFiniteWeight(path, tensor, index):
            return "\(path): tensor '\(tensor)' holds a NaN or infinite value (element \(index))"
        case let .nonFiniteHiddenState(sequence, position):
            return "sequence \(sequence), position \(position): the encoder's hidden state is NaN or infinite (the weights overflow on this input)"
        case let .checkpoint(error): return error.description
        case let .tokenizer(error): return error.description
        case let .invalidInput(sequence, position, reason):
            if let position { return "sequence \(sequence), position \(position): \(reason)" }
            return "sequence \(sequence): \(reason)"
        case let .invalidArgument(name, reason): return "\(name): \(reason)"
        case let .unsupportedPrecision(precision, backend, reason):
            return "precision \(precision) on backend \(backend): \(reason)"
        case let .oneDNN(operation, status): return "oneDNN \(operation) failed: \(status)"
        }
    }
}

extension EncoderError {
    /// The 0-based input an error about one input names (``invalidInput(sequence:position:reason:)``,
    /// ``nonFiniteHiddenState(sequence:position:)``), `nil` for every other error.
    var inputIndex: Int? {
        switch self {
        case let .invalidInput(sequence, _, _): return sequence
        case let .nonFiniteHiddenState(sequence, _): return sequence
        default: return nil
        }
    }

    /// The same error naming input `index` (the caller's index, where the encoder named a row of a sorted
    /// batch); any error not about one input is returned as it is.
    func naming(input index: Int) -> EncoderError {
        switch self {
        case let .invalidInput(_, position, reason): return .invalidInput(sequence: index, position: position, reason: reason)
        case let .nonFiniteHiddenState(_, position): return .nonFiniteHiddenState(sequence: index, position: position)
        default: return self
        }
    }
}

/// The error of the failing input with the smallest index among those recorded: the paths that encode inputs
/// in length order go on past a failing input so that the error they report does not depend on batching,
/// and every input before the one named is known to be good.
struct FirstInputFailure {
    /// The error recorded for the smallest input index, `nil` while none failed.
    private(set) var error: EncoderError?

    /// Keeps `error` (an error about one input, already naming the caller's index) when no input with a
    /// smaller or equal index failed before.
    mutating func record(_ error: EncoderError) {
        if let current = self.error, let known = current.inputIndex, let index = error.inputIndex, known <= index { return }
        self.error = error
    }

    /// Runs `encode` on `batch` (the caller's input indices, in the order the batch is encoded). When it throws
    /// an error about one input (its row in the batch), records that error naming the caller's index and runs
    /// again on the inputs after it; any other error is thrown.
    ///
    /// - Returns: the inputs of the run that succeeded and its result, `nil` when no input was left.
    mutating func encodeSkippingFailures<Result>(
        _ batch: ArraySlice<Int>, _ encode: (ArraySlice<Int>) throws(EncoderError) -> Result
    ) throws(EncoderError) -> (indices: ArraySlice<Int>, result: Result)? {
        var pending = batch
        while !pending.isEmpty {
            do {
                return (pending, try encode(pending))
            } catch {
                guard let row = error.inputIndex else { throw error }
                record(error.naming(input: pending[pending.startIndex + row]))
                pending = pending[(pending.startIndex + row + 1)...]
            }
        }
        return nil
    }
}
