import JSONCore

/// Validates the framing and JSON header of a safetensors file held in `bytes`.
///
/// Every check uses overflow-checked arithmetic; nothing is allocated in proportion to a
/// number read from the file (only to the header's actual size, which is bounded by
/// ``SafeTensorsFile/maxHeaderLength`` and by the file size).
enum HeaderValidator {
    struct Result {
        var headerLength: Int
        var metadata: [String: String]
        var tensors: [String: TensorInfo]
    }

    static func validate(_ bytes: UnsafeRawBufferPointer, file: String) throws(SafeTensorsError) -> Result {
        func fail(_ kind: SafeTensorsError.Kind, tensor: String? = nil) -> SafeTensorsError {
            SafeTensorsError(file: file, tensor: tensor, kind: kind)
        }

        // Framing.
        guard bytes.count >= 8, let base = bytes.baseAddress else { throw fail(.fileTooSmall(size: bytes.count)) }
        let declared = UInt64(littleEndian: base.loadUnaligned(as: UInt64.self))
        if declared > UInt64(SafeTensorsFile.maxHeaderLength) {
            throw fail(.headerTooLarge(length: declared, limit: SafeTensorsFile.maxHeaderLength))
        }
        let available = bytes.count - 8
        if declared > UInt64(available) {
            throw fail(.headerExceedsFile(length: declared, available: available))
        }
        let headerLength = Int(declared)
        let header = UnsafeRawBufferPointer(start: base + 8, count: headerLength)
        let dataSize = available - headerLength

        // Syntax (UTF-8, RFC 8259, duplicate keys, depth).
        let root: JSONValue
        do {
            root = try JSONParser.parse(header, maxDepth: maxDepth)
        } catch {
            throw fail(kind(of: error), tensor: tensorNamed(by: error))
        }
        guard case .object(let entries) = root else { throw fail(.headerNotObject) }

        // Entries, in name order so that the first problem reported does not depend on hashing.
        var metadata: [String: String] = [:]
        var tensors: [String: TensorInfo] = [:]
        tensors.reserveCapacity(entries.count)
        for key in entries.keys.sorted() {
            let value = entries[key]!
            if key == "__metadata__" {
                metadata = try parseMetadata(value, fail: fail)
            } else {
                tensors[key] = try parseTensor(name: key, value, dataSize: dataSize, fail: fail)
            }
        }

        // Overlaps: sort non-empty ranges by start; each must begin at or after the furthest end so far.
        let nonEmpty = tensors.values.filter { !$0.byteRange.isEmpty }.sorted {
            ($0.byteRange.lowerBound, $0.name) < ($1.byteRange.lowerBound, $1.name)
        }
        var furthest: TensorInfo? = nil
        for info in nonEmpty {
            if let previous = furthest, info.byteRange.lowerBound < previous.byteRange.upperBound {
                throw fail(.overlappingTensors(other: previous.name), tensor: info.name)
            }
            if furthest == nil || info.byteRange.upperBound > furthest!.byteRange.upperBound { furthest = info }
        }

        return Result(headerLength: headerLength, metadata: metadata, tensors: tensors)
    }

    /// Nesting bound for the header: a safetensors header needs 3 levels.
    static let maxDepth = 64

    /// The typed error for a JSON parse failure: duplicate keys name the tensor or field.
    private static func kind(of error: JSONParseError) -> SafeTensorsError.Kind {
        switch error.kind {
        case .invalidUTF8:
            return .headerNotUTF8(offset: error.offset)
        case .duplicateKey where error.path.isEmpty:
            return .duplicateTensorName
        case .duplicateKey(let key) where error.path == [.key("__metadata__")]:
            return .invalidMetadata(reason: "key '\(SafeTensorsError.printable(key))' appears more than once")
        case .duplicateKey(let key) where error.path.count == 1:
            return .duplicateField(key)
        default:
            return .invalidJSON(offset: error.offset, reason: error.reason)
        }
    }

    /// The tensor a JSON parse failure belongs to: the duplicated top-level key, or the entry it is in.
    private static func tensorNamed(by error: JSONParseError) -> String? {
        switch (error.kind, error.path.first) {
        case (.duplicateKey(let key), nil): return key
        case (.duplicateKey, .key(let name)?) where name != "__metadata__": return name
        default: return nil
        }
    }

    private static func parseMetadata(
        _ value: JSONValue, fail: (SafeTensorsError.Kind, String?) -> SafeTensorsError
    ) throws(SafeTensorsError) -> [String: String] {
        guard case .object(let members) = value else {
            throw fail(.invalidMetadata(reason: "expected an object, found \(value.typeName)"), nil)
        }
        var result: [String: String] = [:]
        for key in members.keys.sorted() {
            let member = members[key]!
            guard case .string(let s) = member else {
                throw fail(.invalidMetadata(reason: "value of '\(SafeTensorsError.printable(key))' is \(member.typeName), not a string"), nil)
            }
            result[key] = s
        }
        return result
    }

    private static func parseTensor(
        name: String, _ value: JSONValue, dataSize: Int,
        fail: (SafeTensorsError.Kind, String?) -> SafeTensorsError
    ) throws(SafeTensorsError) -> TensorInfo {
        guard case .object(let members) = value else { throw fail(.tensorEntryNotObject, name) }
        // Unknown fields are ignored, as other readers do; duplicates were rejected by the parser.
        let dtypeValue = members["dtype"], shapeValue = members["shape"], offsetsValue = members["data_offsets"]
        guard let dtypeValue else { throw fail(.missingField("dtype"), name) }
        guard let shapeValue else { throw fail(.missingField("shape"), name) }
        guard let offsetsValue else { throw fail(.missingField("data_offsets"), name) }

        // dtype
        guard case .string(let dtypeName) = dtypeValue else { throw fail(.dtypeNotString, name) }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else { throw fail(.unknownDType(dtypeName), name) }

        // shape
        guard case .array(let dims) = shapeValue else {
            throw fail(.invalidShape(reason: "expected an array, found \(shapeValue.typeName)"), name)
        }
        var shape: [Int] = []
        shape.reserveCapacity(dims.count)
        for (i, dim) in dims.enumerated() {
            switch dim {
            case .number(.int(let d)) where d >= 0:
                shape.append(d)
            case .number(.int(let d)):
                throw fail(.invalidShape(reason: "dimension \(i) is negative (\(d))"), name)
            case .number(.bigInteger(let value)):
                throw fail(.invalidShape(reason: "dimension \(i) is \(value < 0 ? "negative and " : "")too large for Int"), name)
            case .number(.fraction):
                throw fail(.invalidShape(reason: "dimension \(i) is not an integer"), name)
            default:
                throw fail(.invalidShape(reason: "dimension \(i) is \(dim.typeName), not an integer"), name)
            }
        }
        // Element count and byte size, overflow-checked. The product of the non-zero
        // dimensions must fit even when some dimension is 0, so that any partial product a
        // consumer computes is safe too.
        var product = 1
        var hasZero = false
        for d in shape {
            if d == 0 { hasZero = true; continue }
            let (p, overflow) = product.multipliedReportingOverflow(by: d)
            if overflow { throw fail(.shapeOverflow(shape: shape), name) }
            product = p
        }
        let (nonZeroBytes, bytesOverflow) = product.multipliedReportingOverflow(by: dtype.byteSize)
        if bytesOverflow { throw fail(.shapeOverflow(shape: shape), name) }
        let byteCount = hasZero ? 0 : nonZeroBytes

        // data_offsets
        guard case .array(let offsets) = offsetsValue else {
            throw fail(.invalidDataOffsets(reason: "expected an array, found \(offsetsValue.typeName)"), name)
        }
        guard offsets.count == 2 else {
            throw fail(.invalidDataOffsets(reason: "expected 2 elements, found \(offsets.count)"), name)
        }
        var bounds: [Int] = []
        for (i, offset) in offsets.enumerated() {
            let which = i == 0 ? "begin" : "end"
            switch offset {
            case .number(.int(let v)) where v >= 0:
                bounds.append(v)
            case .number(.int):
                throw fail(.invalidDataOffsets(reason: "\(which) is negative"), name)
            case .number(.bigInteger(let value)):
                throw fail(.invalidDataOffsets(reason: value < 0 ? "\(which) is negative" : "\(which) is too large for Int"), name)
            case .number(.fraction):
                throw fail(.invalidDataOffsets(reason: "\(which) is not an integer"), name)
            default:
                throw fail(.invalidDataOffsets(reason: "\(which) is \(offset.typeName), not an integer"), name)
            }
        }
        let begin = bounds[0], end = bounds[1]
        if begin > end { throw fail(.reversedDataOffsets(begin: begin, end: end), name) }
        if end > dataSize { throw fail(.dataOffsetsOutOfBounds(end: end, dataSectionSize: dataSize), name) }
        if end - begin != byteCount { throw fail(.byteSizeMismatch(expected: byteCount, actual: end - begin), name) }

        return TensorInfo(name: name, dtype: dtype, shape: shape, byteRange: begin..<end)
    }
}
