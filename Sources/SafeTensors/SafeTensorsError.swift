/// Everything that can go wrong opening or reading a safetensors file.
///
/// Every error names the file (``file``: the path, or the name given to
/// ``SafeTensorsFile/init(bytes:name:)``) and, where the problem belongs to one tensor,
/// that tensor (``tensor``). ``description`` renders both, e.g.
/// `model.safetensors: tensor 'encoder.layer.0.attention.self.query.weight': shape [384, 300] but expected [384, 384]`.
public struct SafeTensorsError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The specific problem.
    public enum Kind: Sendable, Equatable {
        // MARK: Opening the file
        /// The path does not exist.
        case fileNotFound
        /// The path is a directory.
        case isDirectory
        /// The path exists but is not a regular file (a FIFO, socket or device).
        case notRegularFile
        /// The file could not be opened, inspected or memory-mapped; `reason` is the system's message.
        case unreadable(reason: String)

        // MARK: Framing
        /// The file (or byte buffer) has `size` bytes, fewer than the 8-byte header length prefix.
        case fileTooSmall(size: Int)
        /// The header length prefix `length` exceeds the `limit` (100,000,000 bytes).
        case headerTooLarge(length: UInt64, limit: Int)
        /// The header length prefix `length` is larger than the `available` bytes after the prefix.
        case headerExceedsFile(length: UInt64, available: Int)

        // MARK: Header syntax
        /// The header is not valid UTF-8; `offset` is the first bad byte, counted from the start of the header.
        case headerNotUTF8(offset: Int)
        /// The header is not valid JSON (RFC 8259, no duplicate-tolerant tricks); `offset` is counted
        /// from the start of the header.
        case invalidJSON(offset: Int, reason: String)
        /// The header is valid JSON but its top level is not an object.
        case headerNotObject

        // MARK: Tensor entries
        /// Two entries of the header object have the same key (tensor name, or `__metadata__`).
        /// Keys are compared as Swift strings, i.e. up to Unicode canonical equivalence, so two
        /// names a `String`-keyed lookup could not tell apart are rejected too.
        case duplicateTensorName
        /// A tensor's entry is not a JSON object.
        case tensorEntryNotObject
        /// A tensor's entry lacks the field (`"dtype"`, `"shape"` or `"data_offsets"`).
        case missingField(String)
        /// A tensor's entry has the field twice.
        case duplicateField(String)
        /// A tensor's `"dtype"` is not a JSON string.
        case dtypeNotString
        /// A tensor's `"dtype"` names no known type.
        case unknownDType(String)
        /// A tensor's `"shape"` is not an array of non-negative integers that fit in `Int`.
        case invalidShape(reason: String)
        /// The element count or byte size of `shape` overflows `Int`.
        case shapeOverflow(shape: [Int])
        /// A tensor's `"data_offsets"` is not an array of exactly two non-negative integers that fit in `Int`.
        case invalidDataOffsets(reason: String)
        /// `data_offsets` has `begin > end`.
        case reversedDataOffsets(begin: Int, end: Int)
        /// `data_offsets` ends at `end`, past the data section of `dataSectionSize` bytes.
        case dataOffsetsOutOfBounds(end: Int, dataSectionSize: Int)
        /// `data_offsets` spans `actual` bytes but dtype and shape need `expected` bytes.
        case byteSizeMismatch(expected: Int, actual: Int)
        /// The tensor's bytes intersect those of the tensor named `other`.
        case overlappingTensors(other: String)
        /// `__metadata__` is not an object mapping strings to strings.
        case invalidMetadata(reason: String)

        // MARK: Reading tensors
        /// No tensor of that name is in the file.
        case tensorNotFound
        /// The tensor has shape `actual`, the caller asked for `expected`.
        case shapeMismatch(expected: [Int], actual: [Int])
        /// The tensor's dtype cannot be read by `operation` (e.g. F8 or integers as Float32, floats as Int).
        case unsupportedDType(SafeTensorsDType, operation: String)
        /// Element `index` of an unsigned 64-bit tensor does not fit in `Int`.
        case integerOutOfRange(index: Int)
    }

    /// The file path, or the name given for an in-memory buffer.
    public let file: String
    /// The tensor the problem belongs to, if any.
    public let tensor: String?
    /// What went wrong.
    public let kind: Kind

    /// Creates an error.
    public init(file: String, tensor: String? = nil, kind: Kind) {
        self.file = file
        self.tensor = tensor
        self.kind = kind
    }

    /// `"<file>: tensor '<name>': <problem>"`, or `"<file>: <problem>"` when no tensor is involved.
    public var description: String {
        if let tensor {
            return "\(file): tensor '\(SafeTensorsError.printable(tensor))': \(message)"
        }
        return "\(file): \(message)"
    }

    /// The problem alone, without file and tensor.
    public var message: String {
        switch kind {
        case .fileNotFound: return "no such file"
        case .isDirectory: return "is a directory, not a safetensors file"
        case .notRegularFile: return "not a regular file"
        case .unreadable(let reason): return "cannot read file: \(reason)"
        case .fileTooSmall(let size):
            return "file is \(size) bytes, too small for the 8-byte header length"
        case .headerTooLarge(let length, let limit):
            return "header length \(length) exceeds the limit of \(limit) bytes"
        case .headerExceedsFile(let length, let available):
            return "header length \(length) is larger than the \(available) bytes that follow it"
        case .headerNotUTF8(let offset):
            return "header is not valid UTF-8 (byte \(offset) of the header)"
        case .invalidJSON(let offset, let reason):
            return "header is not valid JSON at byte \(offset): \(reason)"
        case .headerNotObject: return "header is not a JSON object"
        case .duplicateTensorName: return "name appears more than once in the header"
        case .tensorEntryNotObject: return "header entry is not a JSON object"
        case .missingField(let field): return "header entry has no \"\(field)\" field"
        case .duplicateField(let field): return "header entry has the field \"\(field)\" more than once"
        case .dtypeNotString: return "\"dtype\" is not a string"
        case .unknownDType(let dtype): return "unknown dtype '\(SafeTensorsError.printable(dtype))'"
        case .invalidShape(let reason): return "invalid shape: \(reason)"
        case .shapeOverflow(let shape): return "shape \(shape) has an element count or byte size that overflows"
        case .invalidDataOffsets(let reason): return "invalid data_offsets: \(reason)"
        case .reversedDataOffsets(let begin, let end):
            return "data_offsets [\(begin), \(end)] begin after they end"
        case .dataOffsetsOutOfBounds(let end, let size):
            return "data_offsets end \(end) is beyond the data section of \(size) bytes"
        case .byteSizeMismatch(let expected, let actual):
            return "data_offsets span \(actual) bytes but dtype and shape need \(expected)"
        case .overlappingTensors(let other):
            return "data overlaps that of tensor '\(SafeTensorsError.printable(other))'"
        case .invalidMetadata(let reason): return "invalid __metadata__: \(reason)"
        case .tensorNotFound: return "no such tensor in the file"
        case .shapeMismatch(let expected, let actual):
            return "shape \(actual) but expected \(expected)"
        case .unsupportedDType(let dtype, let operation):
            return "dtype \(dtype.rawValue) cannot be read \(operation)"
        case .integerOutOfRange(let index):
            return "element \(index) does not fit in Int"
        }
    }

    /// Keeps hostile names readable in messages: escapes control characters, caps the length.
    static func printable(_ s: String) -> String {
        var out = ""
        var count = 0
        for scalar in s.unicodeScalars {
            if count >= 200 { out += "…"; break }
            count += 1
            if scalar.value < 0x20 || scalar.value == 0x7f {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
