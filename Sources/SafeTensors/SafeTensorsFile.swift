import Foundation

/// A safetensors file (Hugging Face format), memory-mapped and validated.
///
/// Layout: an 8-byte little-endian header length `N`, then `N` bytes of UTF-8 JSON mapping
/// tensor names to `{"dtype", "shape", "data_offsets": [begin, end]}` (plus an optional
/// `"__metadata__"` string→string object), then the data section. Offsets are relative to
/// the data section, which starts at byte `8 + N`.
///
/// The whole header is validated when the file is opened: every problem throws a
/// ``SafeTensorsError`` naming the file (and tensor), before any allocation proportional
/// to what the header claims. After a successful init every ``TensorInfo`` lies inside the
/// data section, has exactly `elementCount × byteSize` bytes, and no two tensors overlap.
///
/// Memory used while validating is proportional to the header's actual size (which is bounded
/// by ``maxHeaderLength`` and the file size), never to sizes the header merely claims.
///
/// Immutable after init; safe to share between threads. ``SafeTensorsFile/init(bytes:name:)``
/// is the single entry point for fuzzing.
public final class SafeTensorsFile: @unchecked Sendable {
    /// Largest accepted header, in bytes (the limit the reference implementation uses).
    public static let maxHeaderLength = 100_000_000

    /// The file path (or the name given to ``init(bytes:name:)``); used in every error.
    public let name: String
    /// The header's `"__metadata__"` object (e.g. `["format": "pt"]`); empty when absent.
    public let metadata: [String: String]

    /// The file's bytes (mapping or heap copy).
    let storage: ByteStorage
    /// Length of the JSON header in bytes.
    let headerLength: Int
    /// Offset of the data section from the start of the file: `8 + headerLength`.
    let dataStart: Int
    /// Size of the data section in bytes.
    let dataSize: Int
    private let infos: [String: TensorInfo]
    private let sortedNames: [String]

    /// Memory-maps and validates the safetensors file at `url` (PROT_READ, MAP_PRIVATE; the
    /// mapping lives until this object and every borrowed ``FloatTensor`` are released).
    ///
    /// Throws ``SafeTensorsError`` (with `file` = the path) if the file is missing, a
    /// directory or not a regular file, unreadable, or malformed in any way listed in
    /// ``SafeTensorsError/Kind``.
    public convenience init(contentsOf url: URL) throws(SafeTensorsError) {
        let path = url.isFileURL ? url.path : url.absoluteString
        guard url.isFileURL else {
            throw SafeTensorsError(file: path, kind: .unreadable(reason: "not a file URL"))
        }
        let storage = try ByteStorage.mapping(path: path, displayName: path)
        try self.init(storage: storage, name: path)
    }

    /// Validates a safetensors file held in memory; `bytes` is copied (16-byte aligned).
    /// `name` stands in for the path in errors. This is the entry point for fuzzing: any
    /// byte sequence either parses or throws a ``SafeTensorsError``.
    public convenience init(bytes: [UInt8], name: String = "<memory>") throws(SafeTensorsError) {
        if bytes.count < 8 { throw SafeTensorsError(file: name, kind: .fileTooSmall(size: bytes.count)) }
        try self.init(storage: .copying(bytes), name: name)
    }

    private init(storage: ByteStorage, name: String) throws(SafeTensorsError) {
        let parsed = try HeaderValidator.validate(storage.buffer, file: name)
        self.name = name
        self.storage = storage
        self.metadata = parsed.metadata
        self.infos = parsed.tensors
        self.sortedNames = parsed.tensors.keys.sorted()
        self.headerLength = parsed.headerLength
        self.dataStart = 8 + parsed.headerLength
        self.dataSize = storage.count - 8 - parsed.headerLength
    }

    /// Names of all tensors in the file, sorted (`__metadata__` is not a tensor).
    public var tensorNames: [String] { sortedNames }

    /// The validated description of tensor `name`, or nil if the file has no such tensor.
    public func info(_ name: String) -> TensorInfo? {
        infos[name]
    }

    /// Float32 view of tensor `name` after checking that its shape equals `shape`.
    ///
    /// F32 data is used in place when 4-byte aligned (no copy), copied otherwise; F16, BF16
    /// and F64 are converted into a new buffer (F16/BF16 exactly, F64 rounded to nearest).
    /// The result has `shape` and `shape.reduce(1, *)` elements in row-major order.
    ///
    /// Throws `tensorNotFound` if the tensor is missing (the error names the tensor and the
    /// file), `shapeMismatch` (naming expected and actual shape) if its shape differs, and
    /// `unsupportedDType` for integer, BOOL and F8 tensors.
    public func floatTensor(_ name: String, shape: [Int]) throws(SafeTensorsError) -> FloatTensor {
        let info = try lookup(name)
        guard info.shape == shape else {
            throw SafeTensorsError(file: self.name, tensor: name, kind: .shapeMismatch(expected: shape, actual: info.shape))
        }
        return try makeFloatTensor(info)
    }

    /// Float32 view of tensor `name` with whatever shape the file declares (see
    /// ``floatTensor(_:shape:)`` for conversion rules and errors).
    public func floatTensor(_ name: String) throws(SafeTensorsError) -> FloatTensor {
        try makeFloatTensor(try lookup(name))
    }

    /// Integer tensor `name` (I8, I16, I32, I64, U8, U16, U32, U64; BOOL as 0/1) as `Int`s,
    /// with the file's shape; `values` has the product of `shape` elements in row-major order.
    /// Meant for small tensors such as token ids and attention masks.
    ///
    /// Throws `tensorNotFound`, `unsupportedDType` for float tensors, and `integerOutOfRange`
    /// for U64 values above `Int.max`.
    public func intTensor(_ name: String) throws(SafeTensorsError) -> (shape: [Int], values: [Int]) {
        let info = try lookup(name)
        let n = info.elementCount
        let raw = storage.base + dataStart + info.byteRange.lowerBound
        var values = [Int](repeating: 0, count: n)
        switch info.dtype {
        case .I8:
            for i in 0..<n { values[i] = Int(raw.loadUnaligned(fromByteOffset: i, as: Int8.self)) }
        case .U8:
            for i in 0..<n { values[i] = Int(raw.loadUnaligned(fromByteOffset: i, as: UInt8.self)) }
        case .BOOL:
            for i in 0..<n { values[i] = raw.loadUnaligned(fromByteOffset: i, as: UInt8.self) == 0 ? 0 : 1 }
        case .I16:
            for i in 0..<n { values[i] = Int(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))) }
        case .U16:
            for i in 0..<n { values[i] = Int(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
        case .I32:
            for i in 0..<n { values[i] = Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) }
        case .U32:
            for i in 0..<n { values[i] = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
        case .I64:
            for i in 0..<n { values[i] = Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))) }
        case .U64:
            for i in 0..<n {
                let v = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))
                guard let x = Int(exactly: v) else {
                    throw SafeTensorsError(file: self.name, tensor: name, kind: .integerOutOfRange(index: i))
                }
                values[i] = x
            }
        case .F64, .F32, .F16, .BF16, .F8_E4M3, .F8_E5M2:
            throw SafeTensorsError(file: self.name, tensor: name, kind: .unsupportedDType(info.dtype, operation: "as integers"))
        }
        return (info.shape, values)
    }

    // MARK: Private

    private func lookup(_ name: String) throws(SafeTensorsError) -> TensorInfo {
        guard let info = infos[name] else {
            throw SafeTensorsError(file: self.name, tensor: name, kind: .tensorNotFound)
        }
        return info
    }

    private func makeFloatTensor(_ info: TensorInfo) throws(SafeTensorsError) -> FloatTensor {
        let n = info.elementCount
        let raw = storage.base + dataStart + info.byteRange.lowerBound
        switch info.dtype {
        case .F32:
            #if _endian(little)
            if n > 0, Int(bitPattern: raw) % MemoryLayout<Float>.alignment == 0 {
                let p = raw.bindMemory(to: Float.self, capacity: n)
                return FloatTensor(name: info.name, shape: info.shape, borrowing: p, count: n, owner: storage)
            }
            #endif
            return FloatTensor(name: info.name, shape: info.shape, count: n) { out in
                for i in 0..<n {
                    out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                }
            }
        case .F16:
            return FloatTensor(name: info.name, shape: info.shape, count: n) { out in
                for i in 0..<n {
                    out[i] = HalfConversion.float(fromHalfBits: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                }
            }
        case .BF16:
            return FloatTensor(name: info.name, shape: info.shape, count: n) { out in
                for i in 0..<n {
                    out[i] = HalfConversion.float(fromBFloat16Bits: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                }
            }
        case .F64:
            return FloatTensor(name: info.name, shape: info.shape, count: n) { out in
                for i in 0..<n {
                    out[i] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
                }
            }
        case .F8_E4M3, .F8_E5M2, .I64, .I32, .I16, .I8, .U8, .U16, .U32, .U64, .BOOL:
            throw SafeTensorsError(file: name, tensor: info.name, kind: .unsupportedDType(info.dtype, operation: "as Float32"))
        }
    }
}
