import CLAPACKE

/// Principal component analysis of a set of embeddings, fitted with LAPACK, applied with one GEMM.
///
/// Fitting centers the rows, forms the `(d × d)` covariance `Cov = Xcᵀ·Xc / (n − 1)` with one
/// `cblas_sgemm`, and diagonalizes it with `LAPACKE_ssyevd` (divide and conquer, all eigenpairs). The
/// top ``outputDimension`` eigenvectors, by decreasing eigenvalue, are the ``components``.
///
/// ``project(_:normalize:)`` maps rows `x` to `P·x`, or `P·(x − μ)` when ``centered``, as a single GEMM:
/// the projection matrix `P` (the components, each scaled by `1/√λ` when whitening) and the offset `P·μ`
/// are prepared once, and the GEMM accumulates onto rows that start at `−P·μ`. The projected rows are
/// re-normalized to unit length by default, ready for cosine search (see
/// ``SemanticIndex/init(embeddings:reduction:)``).
///
/// Centering is off by default: the components are always fitted on centered data, but for cosine search
/// projecting the raw embeddings keeps the ranking closest to full-dimension search (on all-MiniLM-L6-v2,
/// recall@10 0.97 against 0.94 at 192 of 384 dimensions; see `Docs/Search.md`).
///
/// ```swift
/// let pca = try PrincipalComponents(fitting: corpus.embeddings, components: 128)
/// let reduced = try pca.project(corpus.embeddings)          // (n, 128), unit rows
/// print(pca.explainedVarianceRatio)                          // share of the variance kept
/// ```
public struct PrincipalComponents: Sendable {
    /// The mean row of the fitted data (`inputDimension` values).
    public let mean: [Float]
    /// (``outputDimension``, ``inputDimension``): one orthonormal principal direction per row, by
    /// decreasing variance. Each direction's sign is fixed so that its largest-magnitude entry is positive.
    public let components: Matrix
    /// The variance along each component (eigenvalues of the covariance), in decreasing order.
    public let eigenvalues: [Float]
    /// The total variance of the fitted data: the sum of all `inputDimension` eigenvalues (the covariance's trace).
    public let totalVariance: Float
    /// Whether ``project(_:normalize:)`` scales each component to unit variance (`1/√λ`).
    public let whitened: Bool
    /// Whether ``project(_:normalize:)`` subtracts ``mean`` before projecting.
    public let centered: Bool

    /// `P`: the components, scaled by `1/√λ` when whitened; (outputDimension, inputDimension).
    let projection: Matrix
    /// `P·μ` when centered (else zeros), subtracted from every projected row.
    let offset: [Float]

    /// Width of the rows that ``project(_:normalize:)`` accepts.
    public var inputDimension: Int { components.columns }
    /// Width of the projected rows: the number of components kept.
    public var outputDimension: Int { components.rows }
    /// The share of the total variance that the kept components carry, in [0, 1].
    public var explainedVarianceRatio: Float {
        totalVariance > 0 ? min(1, eigenvalues.reduce(0, +) / totalVariance) : 1
    }

    /// Fits the top `components` principal components of the rows of `data`.
    ///
    /// - Parameters:
    ///   - data: (n, d) rows, e.g. corpus embeddings; n ≥ 2.
    ///   - count: how many components to keep, `1...d`.
    ///   - whiten: scale each component to unit variance in ``project(_:normalize:)``. Components with
    ///     (numerically) zero variance are scaled by `1/√(10⁻⁶·λ₁)` instead of blowing up.
    ///   - centered: subtract the mean before projecting (`P·(x − μ)`); usual with `whiten`.
    /// - Throws: ``SearchError/invalidComponentCount(requested:available:)``, ``SearchError/tooFewSamples(rows:)``,
    ///   ``SearchError/nonFiniteValue(row:)``, ``SearchError/lapackFailure(routine:info:)``.
    public init(
        fitting data: Matrix, components count: Int, whiten: Bool = false, centered: Bool = false
    ) throws(SearchError) {
        let n = data.rows, d = data.columns
        guard count > 0, count <= d else { throw .invalidComponentCount(requested: count, available: d) }
        guard n >= 2 else { throw .tooFewSamples(rows: n) }
        guard d <= Int(Int32.max) else { throw .lapackFailure(routine: "LAPACKE_ssyevd", info: -4) }
        try SemanticIndex.checkFinite(data)

        // Mean (accumulated in Double) and centered rows.
        var meanSum = [Double](repeating: 0, count: d)
        for r in 0..<n {
            for j in 0..<d { meanSum[j] += Double(data.values[r * d + j]) }
        }
        let mean = meanSum.map { Float($0 / Double(n)) }
        var deviations = data
        deviations.withUnsafeMutableValues { values in
            for r in 0..<n {
                for j in 0..<d { values[r * d + j] -= mean[j] }
            }
        }

        // Cov(d × d) = Xcᵀ·Xc / (n − 1): one GEMM.
        let covarianceMatrix = try SemanticIndex.checked { () throws(MatrixError) in
            try ComputeBackend.blas.product(deviations, deviations, transposeA: .transposed, alpha: 1 / Float(n - 1))
        }
        var covariance = covarianceMatrix.values
        var trace: Double = 0
        for j in 0..<d { trace += Double(covariance[j * d + j]) }

        // Eigen-decomposition: eigenvalues ascending in w; eigenvector i is column i (row-major).
        var w = [Float](repeating: 0, count: d)
        let info = covariance.withUnsafeMutableBufferPointer { pv in
            w.withUnsafeMutableBufferPointer { pw in
                LAPACKE_ssyevd(
                    LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "U")),
                    Int32(d), pv.baseAddress, Int32(d), pw.baseAddress)
            }
        }
        guard info == 0 else { throw .lapackFailure(routine: "LAPACKE_ssyevd", info: Int(info)) }

        var componentValues = [Float](repeating: 0, count: count * d)
        var eigenvalues = [Float](repeating: 0, count: count)
        for c in 0..<count {
            let column = d - 1 - c
            eigenvalues[c] = max(0, w[column])  // rounding can leave tiny negatives
            var largest: Float = 0
            for i in 0..<d where abs(covariance[i * d + column]) > abs(largest) { largest = covariance[i * d + column] }
            let sign: Float = largest < 0 ? -1 : 1
            for i in 0..<d { componentValues[c * d + i] = sign * covariance[i * d + column] }
        }
        let components = Matrix(unchecked: componentValues, rows: count, columns: d)

        var projection = components
        if whiten {
            let floor = max(eigenvalues[0] * 1e-6, Float.leastNormalMagnitude)
            for c in 0..<count {
                let scale = 1 / max(eigenvalues[c], floor).squareRoot()
                for i in 0..<d { projection[c, i] *= scale }
            }
        }
        var offset = [Float](repeating: 0, count: count)
        for c in 0..<count where centered {
            var sum: Double = 0
            for i in 0..<d { sum += Double(projection.values[c * d + i]) * Double(mean[i]) }
            offset[c] = Float(sum)
        }

        self.mean = mean
        self.components = components
        self.eigenvalues = eigenvalues
        self.totalVariance = Float(max(0, trace))
        self.whitened = whiten
        self.centered = centered
        self.projection = projection
        self.offset = offset
    }

    /// Projects rows onto the components: `(rows, inputDimension)` → `(rows, outputDimension)`, one GEMM.
    ///
    /// - Parameters:
    ///   - rows: vectors of ``inputDimension`` floats, e.g. embeddings from the same model as the fitted data.
    ///   - normalize: scale every projected row to unit length (for cosine search); `false` gives the raw
    ///     coordinates `P·x` (`P·(x − μ)` when ``centered``).
    /// - Throws: ``SearchError/dimensionMismatch(expected:actual:)`` when the rows have the wrong width.
    public func project(_ rows: Matrix, normalize: Bool = true) throws(SearchError) -> Matrix {
        guard rows.columns == inputDimension else {
            throw .dimensionMismatch(expected: inputDimension, actual: rows.columns)
        }
        let m = rows.rows, k = outputDimension
        // Every output row starts at −P·μ; the GEMM adds X·Pᵀ (β = 1).
        let projected = try SemanticIndex.checked { () throws(MatrixError) in
            var start = try Matrix(rows: m, columns: k)
            start.withUnsafeMutableValues { values in
                for r in 0..<m {
                    for c in 0..<k { values[r * k + c] = -offset[c] }
                }
            }
            try ComputeBackend.blas.multiply(rows, projection, into: &start, transposeB: .transposed, beta: 1)
            return start
        }
        return normalize ? EmbeddingRows.normalizedRows(projected) : projected
    }
}
