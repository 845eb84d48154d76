/// A dense, row-major matrix of `Float` (fp32).
///
/// Element `(r, c)` lives at `values[r * columns + c]`. Every operation checks shapes and throws
/// ``MatrixError`` on a mismatch, so a wrong shape is an error, never an out-of-bounds access.
public struct Matrix: Sendable, Equatable {
    /// Number of rows.
    public let rows: Int
    /// Number of columns.
    public let columns: Int
    /// The elements, row after row; always `rows * columns` of them.
    ///
    /// Read-only from outside: change elements through ``subscript(_:_:)`` or
    /// ``withUnsafeMutableValues(_:)``, which cannot change their count (the products and kernels rely on it).
    public private(set) var values: [Float]

    /// A `rows × columns` matrix filled with `value`.
    public init(rows: Int, columns: Int, repeating value: Float = 0) throws(MatrixError) {
        guard rows >= 0, columns >= 0 else { throw .invalidShape(rows: rows, columns: columns) }
        let (count, overflow) = rows.multipliedReportingOverflow(by: columns)
        guard !overflow else { throw .invalidShape(rows: rows, columns: columns) }
        self.rows = rows
        self.columns = columns
        self.values = [Float](repeating: value, count: count)
    }

    /// A `rows × columns` matrix over `values` given row after row.
    public init(rows: Int, columns: Int, values: [Float]) throws(MatrixError) {
        guard rows >= 0, columns >= 0 else { throw .invalidShape(rows: rows, columns: columns) }
        let (count, overflow) = rows.multipliedReportingOverflow(by: columns)
        guard !overflow, count == values.count else {
            throw .elementCountMismatch(rows: rows, columns: columns, count: values.count)
        }
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    /// Internal: values known to hold `rows * columns` elements.
    init(unchecked values: [Float], rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    /// The element at row `row`, column `column`.
    public subscript(row: Int, column: Int) -> Float {
        get {
            precondition(row >= 0 && row < rows && column >= 0 && column < columns, "Matrix index out of range")
            return values[row * columns + column]
        }
        set {
            precondition(row >= 0 && row < rows && column >= 0 && column < columns, "Matrix index out of range")
            values[row * columns + column] = newValue
        }
    }

    /// Calls `body` with the elements, row after row, to change them in place. The buffer has exactly
    /// `rows * columns` elements and cannot be resized.
    public mutating func withUnsafeMutableValues<Result, Failure: Error>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        let outcome = values.withUnsafeMutableBufferPointer { buffer in
            Swift.Result { () throws(Failure) -> Result in try body(buffer) }
        }
        return try outcome.get()
    }

    /// A copy of the rows in `range`: `(range.count, columns)`.
    public func rows(_ range: Range<Int>) throws(MatrixError) -> Matrix {
        guard range.lowerBound >= 0, range.upperBound <= rows else {
            throw .rowRangeOutOfBounds(range: range, rows: rows)
        }
        return Matrix(unchecked: Array(values[(range.lowerBound * columns)..<(range.upperBound * columns)]),
                      rows: range.count, columns: columns)
    }

    /// The shape as `(rows, columns)`.
    public var shape: (rows: Int, columns: Int) { (rows, columns) }

    /// The largest absolute element-wise difference to `other`, or `nil` when shapes differ.
    public func maxAbsoluteDifference(to other: Matrix) -> Float? {
        guard rows == other.rows, columns == other.columns else { return nil }
        var worst: Float = 0
        for i in values.indices { worst = max(worst, abs(values[i] - other.values[i])) }
        return worst
    }
}

/// Whether an operand of a matrix product is used as it is or transposed.
public enum Transpose: Sendable, Equatable {
    /// `op(X) = X`
    case none
    /// `op(X) = Xᵀ`
    case transposed
}

/// A shape problem in the matrix layer.
public enum MatrixError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Negative dimensions or a size that overflows.
    case invalidShape(rows: Int, columns: Int)
    /// `values.count` does not equal `rows * columns`.
    case elementCountMismatch(rows: Int, columns: Int, count: Int)
    /// The operands of `C = α·op(A)·op(B) + β·C` do not fit together.
    case productShapeMismatch(a: String, b: String, c: String)
    /// A range of rows reaches outside a matrix of `rows` rows.
    case rowRangeOutOfBounds(range: Range<Int>, rows: Int)

    /// One line naming the shapes concerned.
    public var description: String {
        switch self {
        case let .invalidShape(r, c):
            return "invalid matrix shape \(r)×\(c)"
        case let .elementCountMismatch(r, c, n):
            return "a \(r)×\(c) matrix needs \(r.multipliedReportingOverflow(by: c).partialValue) values, got \(n)"
        case let .productShapeMismatch(a, b, c):
            return "matrix product shapes do not fit: op(A) is \(a), op(B) is \(b), C is \(c)"
        case let .rowRangeOutOfBounds(range, rows):
            return "rows \(range.lowerBound)..<\(range.upperBound) of a matrix of \(rows) rows"
        }
    }
}
