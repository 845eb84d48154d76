/// The element types a safetensors file can declare in a tensor's `"dtype"` field.
///
/// The raw value is the exact spelling used in the file header (e.g. `"F32"`, `"BF16"`).
/// All multi-byte types are stored little-endian.
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    /// IEEE 754 binary64.
    case F64
    /// IEEE 754 binary32.
    case F32
    /// IEEE 754 binary16 (half precision).
    case F16
    /// bfloat16: the upper 16 bits of an IEEE 754 binary32.
    case BF16
    /// Signed 64-bit integer.
    case I64
    /// Signed 32-bit integer.
    case I32
    /// Signed 16-bit integer.
    case I16
    /// Signed 8-bit integer.
    case I8
    /// Unsigned 8-bit integer.
    case U8
    /// Unsigned 16-bit integer.
    case U16
    /// Unsigned 32-bit integer.
    case U32
    /// Unsigned 64-bit integer.
    case U64
    /// Boolean, one byte per element (0 = false, anything else = true).
    case BOOL
    /// 8-bit float, 4 exponent bits and 3 mantissa bits. Recognised, but not convertible to Float32 here.
    case F8_E4M3
    /// 8-bit float, 5 exponent bits and 2 mantissa bits. Recognised, but not convertible to Float32 here.
    case F8_E5M2

    /// Size of one element in bytes.
    public var byteSize: Int {
        switch self {
        case .F64, .I64, .U64: return 8
        case .F32, .I32, .U32: return 4
        case .F16, .BF16, .I16, .U16: return 2
        case .I8, .U8, .BOOL, .F8_E4M3, .F8_E5M2: return 1
        }
    }

    /// Whether ``SafeTensorsFile/floatTensor(_:)`` can convert this type to Float32
    /// (`F64`, `F32`, `F16`, `BF16`).
    public var isConvertibleToFloat: Bool {
        switch self {
        case .F64, .F32, .F16, .BF16: return true
        default: return false
        }
    }

    /// Whether ``SafeTensorsFile/intTensor(_:)`` can read this type as `Int`
    /// (all signed and unsigned integer types, and `BOOL` as 0/1).
    public var isInteger: Bool {
        switch self {
        case .I64, .I32, .I16, .I8, .U8, .U16, .U32, .U64, .BOOL: return true
        default: return false
        }
    }
}

/// Where one tensor lives in a safetensors file, as declared (and validated) in its header.
public struct TensorInfo: Sendable, Equatable {
    /// The tensor's name, the key in the header (e.g. `"encoder.layer.0.attention.self.query.weight"`).
    public let name: String
    /// Element type.
    public let dtype: SafeTensorsDType
    /// Dimensions, outermost first (row-major). `[]` is a scalar holding one element.
    /// Every dimension is non-negative and the product of the non-zero dimensions times
    /// `dtype.byteSize` fits in `Int`.
    public let shape: [Int]
    /// Byte range of the tensor's data, relative to the start of the data section
    /// (the byte right after the JSON header). Its length is `elementCount * dtype.byteSize`.
    public let byteRange: Range<Int>

    /// Creates a tensor description. No validation is done here; ``SafeTensorsFile`` only
    /// hands out infos it has validated.
    public init(name: String, dtype: SafeTensorsDType, shape: [Int], byteRange: Range<Int>) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.byteRange = byteRange
    }

    /// Number of elements: the product of `shape` (1 for a scalar, 0 if any dimension is 0).
    public var elementCount: Int {
        var n = 1
        for d in shape {
            if d == 0 { return 0 }
            let (p, o) = n.multipliedReportingOverflow(by: d)
            n = o ? Int.max : p
        }
        return n
    }
}
