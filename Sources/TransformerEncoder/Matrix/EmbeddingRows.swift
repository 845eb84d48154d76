/// Row operations on embedding matrices, shared by the layers that hand out embeddings (Pooling,
/// sentence-transformers' `Normalize`) and the ones that compare them (Search): L2 normalization as
/// `F.normalize(x, p=2, dim=-1)` computes it, and the finite check.
enum EmbeddingRows {
    /// Scales `row[0..<count]` to unit L2 norm: `x / max(‖x‖, 1e-12)` (a zero row stays zero).
    /// The norm is accumulated in double precision.
    static func normalize(_ row: UnsafeMutablePointer<Float>, count: Int) {
        var squares: Double = 0
        for j in 0..<count { squares += Double(row[j]) * Double(row[j]) }
        let norm = max(squares.squareRoot(), 1e-12)
        for j in 0..<count { row[j] = Float(Double(row[j]) / norm) }
    }

    /// Normalizes every row of `matrix` in place.   matrix: (rows, width)
    static func normalizeRows(_ matrix: inout Matrix) {
        let width = matrix.columns
        let rows = matrix.rows
        guard width > 0 else { return }
        matrix.withUnsafeMutableValues { values in
            guard let base = values.baseAddress else { return }
            for r in 0..<rows { normalize(base + r * width, count: width) }
        }
    }

    /// `matrix` with every row normalized.
    static func normalizedRows(_ matrix: Matrix) -> Matrix {
        var result = matrix
        normalizeRows(&result)
        return result
    }

    /// The first row of `matrix` holding a NaN or an infinity, `nil` when all are finite.
    static func firstNonFiniteRow(_ matrix: Matrix) -> Int? {
        guard matrix.columns > 0, let index = matrix.values.firstIndex(where: { !$0.isFinite }) else { return nil }
        return index / matrix.columns
    }
}
