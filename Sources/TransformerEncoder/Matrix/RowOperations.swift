/// Row-wise operations shared by the layers that hand out embeddings (Pooling) and compare them (Search).
extension Matrix {
    /// The first row holding a NaN or an infinity, or nil when every element is finite.
    func firstNonFiniteRow() -> Int? {
        guard columns > 0, let index = values.firstIndex(where: { !$0.isFinite }) else { return nil }
        return index / columns
    }

    /// The matrix with every row scaled to unit L2 norm, as ``RowOperations/normalize(_:count:)`` does.
    func normalizedRows() -> Matrix {
        var result = self
        let width = columns
        result.withUnsafeMutableValues { buffer in
            guard let base = buffer.baseAddress else { return }
            for r in 0..<rows { RowOperations.normalize(base + r * width, count: width) }
        }
        return result
    }
}

/// Kernels on one row of floats.
enum RowOperations {
    /// Scales `row` (of `count` floats) to unit L2 norm as PyTorch's `F.normalize` does:
    /// `x / max(‖x‖, 1e-12)`, the norm accumulated in `Double`; a zero row stays zero.
    static func normalize(_ row: UnsafeMutablePointer<Float>, count: Int) {
        var squares: Double = 0
        for j in 0..<count { squares += Double(row[j]) * Double(row[j]) }
        let norm = max(squares.squareRoot(), 1e-12)
        for j in 0..<count { row[j] = Float(Double(row[j]) / norm) }
    }
}
