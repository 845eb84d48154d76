/// Row operations on embedding matrices: L2 normalization as sentence-transformers' `Normalize` module
/// (`F.normalize(x, p=2, dim=-1)`) computes it, and the finite check every embedding passes before it is
/// returned.
enum EmbeddingRows {
    /// Scales `row[0..<count]` to unit L2 norm: `x / max(‖x‖, 1e-12)` (a zero row stays zero).
    /// The norm is accumulated in double precision.
    static func normalize(_ row: UnsafeMutablePointer<Float>, count: Int) {
        var squares: Double = 0
        for j in 0..<count { squares += Double(row[j]) * Double(row[j]) }
        let norm = max(squares.squareRoot(), 1e-12)
        for j in 0..<count { row[j] = Float(Double(row[j]) / norm) }
    }

    /// Normalizes every row of `matrix`.
    static func normalizeRows(_ matrix: inout Matrix) {
        let width = matrix.columns
        guard width > 0 else { return }
        matrix.values.withUnsafeMutableBufferPointer { values in
            for r in 0..<matrix.rows { normalize(values.baseAddress! + r * width, count: width) }
        }
    }

    /// The first row of `matrix` holding a NaN or an infinity, `nil` when all are finite.
    static func firstNonFiniteRow(_ matrix: Matrix) -> Int? {
        let width = matrix.columns
        guard width > 0 else { return nil }
        return matrix.values.withUnsafeBufferPointer { values -> Int? in
            for r in 0..<matrix.rows where values[(r * width)..<((r + 1) * width)].contains(where: { !$0.isFinite }) {
                return r
            }
            return nil
        }
    }
}
