/// Row operations on embedding matrices, shared by the layers that hand out embeddings (Pooling,
/// sentence-transformers' `Normalize`, the server's `dimensions`) and the ones that compare them (Search):
/// L2 normalization as `F.normalize(x, p=2, dim=-1)` computes it, Matryoshka truncation, and the finite check.
public enum EmbeddingRows {
    /// Scales `row[0..<count]` to unit L2 norm: `x / max(‖x‖, 1e-12)` (a zero row stays zero).
    /// The norm is accumulated in double precision.
    public static func normalize(_ row: UnsafeMutablePointer<Float>, count: Int) {
        var squares: Double = 0
        for j in 0..<count { squares += Double(row[j]) * Double(row[j]) }
        let norm = max(squares.squareRoot(), 1e-12)
        for j in 0..<count { row[j] = Float(Double(row[j]) / norm) }
    }

    /// Normalizes every row of `matrix` in place.   matrix: (rows, width)
    public static func normalizeRows(_ matrix: inout Matrix) {
        let width = matrix.columns
        let rows = matrix.rows
        guard width > 0 else { return }
        matrix.withUnsafeMutableValues { values in
            guard let base = values.baseAddress else { return }
            for r in 0..<rows { normalize(base + r * width, count: width) }
        }
    }

    /// `matrix` with every row normalized.
    public static func normalizedRows(_ matrix: Matrix) -> Matrix {
        var result = matrix
        normalizeRows(&result)
        return result
    }

    /// The first `width` values of each row, each row normalized when `normalize` (as sentence-transformers'
    /// `truncate_dim` followed by `normalize_embeddings`).
    ///
    /// - Parameters:
    ///   - values: (rows, columns) row-major; `values.count` is a multiple of `columns`.
    ///   - width: 1...columns.
    /// - Returns: (rows, width) row-major.
    public static func truncated(_ values: [Float], columns: Int, to width: Int, normalize: Bool) -> [Float] {
        precondition(columns > 0 && (1...columns).contains(width) && values.count % columns == 0, "rows of \(columns) cut to \(width)")
        if width == columns && !normalize { return values }
        let rows = values.count / columns
        var result = [Float](repeating: 0, count: rows * width)
        values.withUnsafeBufferPointer { source in
            result.withUnsafeMutableBufferPointer { target in
                for r in 0..<rows {
                    let row = target.baseAddress! + r * width
                    row.update(from: source.baseAddress! + r * columns, count: width)
                    if normalize { Self.normalize(row, count: width) }
                }
            }
        }
        return result
    }

    /// The first row of `matrix` holding a NaN or an infinity, `nil` when all are finite.
    public static func firstNonFiniteRow(_ matrix: Matrix) -> Int? {
        firstNonFiniteRow(matrix.values, columns: matrix.columns)
    }

    /// The first row of `values` ((rows, columns) row-major) holding a NaN or an infinity, `nil` when all are
    /// finite (or `columns` is 0).
    public static func firstNonFiniteRow(_ values: [Float], columns: Int) -> Int? {
        guard columns > 0, let index = values.firstIndex(where: { !$0.isFinite }) else { return nil }
        return index / columns
    }
}
