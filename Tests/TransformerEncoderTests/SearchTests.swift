import Foundation
import XCTest
@testable import TransformerEncoder

/// Semantic search (``SemanticIndex``) and its LAPACK-fitted reduction (``PrincipalComponents``).
final class SearchTests: XCTestCase {
    // MARK: - Helpers

    /// `rows` random unit vectors of width `d` (Gaussian-ish directions).
    static func unitVectors(_ rows: Int, _ d: Int, seed: UInt64) -> Matrix {
        var random = TestRandom(seed: seed)
        var m = random.matrix(rows, d)
        for r in 0..<rows {
            var s: Float = 0
            for j in 0..<d { s += m[r, j] * m[r, j] }
            let norm = s.squareRoot()
            for j in 0..<d { m[r, j] /= norm }
        }
        return m
    }

    /// Brute force: every corpus row's dot product with the query, fully sorted (score desc, index asc).
    static func bruteForce(_ corpus: Matrix, _ query: [Float], top k: Int) -> [SearchHit] {
        var all: [SearchHit] = []
        for r in 0..<corpus.rows {
            var s: Double = 0
            for j in 0..<corpus.columns { s += Double(corpus[r, j]) * Double(query[j]) }
            all.append(SearchHit(index: r, score: Float(s)))
        }
        all.sort { ($0.score, -$0.index) > ($1.score, -$1.index) }
        return Array(all.prefix(k))
    }

    static func row(_ m: Matrix, _ r: Int) -> [Float] { Array(m.values[(r * m.columns)..<((r + 1) * m.columns)]) }

    /// Indices of the `k` rows of `m` nearest to row `r` by cosine, excluding `r` itself, by brute force.
    static func neighbours(_ m: Matrix, of r: Int, k: Int) -> Set<Int> {
        let normalized = EmbeddingRows.normalizedRows(m)
        let hits = bruteForce(normalized, row(normalized, r), top: k + 1).filter { $0.index != r }
        return Set(hits.prefix(k).map(\.index))
    }

    // MARK: - SemanticIndex

    /// k < n: the index returns exactly brute force's top k (same indices, same order, scores to 1e-5),
    /// for several query batches, with one and with two selection threads.
    func testTopKMatchesBruteForceWhenKIsSmallerThanCorpus() throws {
        let corpus = Self.unitVectors(1000, 48, seed: 1)
        let queries = Self.unitVectors(37, 48, seed: 2)
        let index = try SemanticIndex(embeddings: corpus)
        XCTAssertEqual(index.count, 1000)
        XCTAssertEqual(index.queryDimension, 48)
        for threads in [1, 2] {
            for k in [1, 10, 99] {
                let results = try index.search(queries: queries, top: k, threads: threads)
                XCTAssertEqual(results.count, 37)
                for q in 0..<queries.rows {
                    let expected = Self.bruteForce(corpus, Self.row(queries, q), top: k)
                    XCTAssertEqual(results[q].count, k)
                    XCTAssertEqual(results[q].map(\.index), expected.map(\.index), "query \(q), k \(k)")
                    for (got, want) in zip(results[q], expected) {
                        XCTAssertEqual(got.score, want.score, accuracy: 1e-5)
                    }
                    // Best first.
                    XCTAssertEqual(results[q].map(\.score), results[q].map(\.score).sorted(by: >))
                }
            }
        }
    }

    /// k ≥ n: every corpus row comes back, ranked exactly like the full sort.
    func testTopKReturnsWholeCorpusRankedWhenKIsAtLeastCorpus() throws {
        let corpus = Self.unitVectors(7, 16, seed: 3)
        let queries = Self.unitVectors(5, 16, seed: 4)
        let index = try SemanticIndex(embeddings: corpus)
        for k in [7, 8, 1000] {
            let results = try index.search(queries: queries, top: k)
            for q in 0..<queries.rows {
                XCTAssertEqual(results[q].count, 7)
                XCTAssertEqual(Set(results[q].map(\.index)), Set(0..<7))
                XCTAssertEqual(results[q].map(\.index), Self.bruteForce(corpus, Self.row(queries, q), top: 7).map(\.index))
            }
        }
    }

    /// Corpus rows that are not unit length are normalized: scores are cosines, and a scaled copy of a
    /// row scores 1 against it. Equal scores rank the lower index first.
    func testUnnormalizedCorpusAndTies() throws {
        var corpus = try Matrix(rows: 4, columns: 3, values: [
            3, 0, 0,   // index 0: same direction as index 2
            0, 2, 0,
            0.5, 0, 0,
            0, 0, -7,
        ])
        let index = try SemanticIndex(embeddings: corpus)
        let hits = try index.search(query: [10, 0, 0], top: 2)
        XCTAssertEqual(hits.map(\.index), [0, 2])
        XCTAssertEqual(hits[0].score, 1, accuracy: 1e-6)
        XCTAssertEqual(hits[1].score, 1, accuracy: 1e-6)
        // A zero query scores 0 everywhere: ranks by index.
        XCTAssertEqual(try index.search(query: [0, 0, 0], top: 4).map(\.index), [0, 1, 2, 3])
        corpus[3, 2] = .nan
        XCTAssertThrowsError(try SemanticIndex(embeddings: corpus)) {
            XCTAssertEqual($0 as? SearchError, .nonFiniteValue(row: 3))
        }
    }

    /// Bad arguments are typed errors, not crashes.
    func testSearchErrors() throws {
        XCTAssertThrowsError(try SemanticIndex(embeddings: Matrix(rows: 0, columns: 8))) {
            XCTAssertEqual($0 as? SearchError, .emptyCorpus)
        }
        let index = try SemanticIndex(embeddings: Self.unitVectors(10, 8, seed: 5))
        XCTAssertThrowsError(try index.search(queries: Self.unitVectors(2, 8, seed: 6), top: 0)) {
            XCTAssertEqual($0 as? SearchError, .invalidTopK(0))
        }
        XCTAssertThrowsError(try index.search(queries: Self.unitVectors(2, 9, seed: 6), top: 3)) {
            XCTAssertEqual($0 as? SearchError, .dimensionMismatch(expected: 8, actual: 9))
        }
        XCTAssertEqual(try index.search(queries: Matrix(rows: 0, columns: 8), top: 3).count, 0)
        var nanQueries = Self.unitVectors(3, 8, seed: 6)
        nanQueries[2, 5] = .nan
        XCTAssertThrowsError(try index.search(queries: nanQueries, top: 3)) {
            XCTAssertEqual($0 as? SearchError, .nonFiniteValue(row: 2))
        }
    }

    // MARK: - PrincipalComponents

    /// Synthetic data with a known dominant subspace: 3 strong directions in 40 dimensions plus small
    /// isotropic noise, shifted by a constant mean.
    static func lowRankData(rows n: Int, seed: UInt64) -> (data: Matrix, basis: Matrix) {
        let d = 40
        var random = TestRandom(seed: seed)
        // An orthonormal basis of 3 directions (Gram–Schmidt on random vectors).
        var basis = random.matrix(3, d)
        for i in 0..<3 {
            for p in 0..<i {
                var dot: Float = 0
                for j in 0..<d { dot += basis[i, j] * basis[p, j] }
                for j in 0..<d { basis[i, j] -= dot * basis[p, j] }
            }
            var s: Float = 0
            for j in 0..<d { s += basis[i, j] * basis[i, j] }
            for j in 0..<d { basis[i, j] /= s.squareRoot() }
        }
        let scales: [Float] = [5, 3, 2]
        let shift = random.matrix(1, d)
        var data = try! Matrix(rows: n, columns: d)
        for r in 0..<n {
            let coefficients = (0..<3).map { i in Float.random(in: -1..<1, using: &random) * scales[i] }
            for j in 0..<d {
                var x = shift[0, j] + 0.02 * Float.random(in: -1..<1, using: &random)
                for i in 0..<3 { x += coefficients[i] * basis[i, j] }
                data[r, j] = x
            }
        }
        return (data, basis)
    }

    /// Components are orthonormal (W·Wᵀ = I, one GEMM), eigenvalues descend, the components span the known
    /// subspace, and the variance they explain is nearly all of it.
    func testPrincipalComponentsRecoverDominantSubspace() throws {
        let (data, basis) = Self.lowRankData(rows: 400, seed: 11)
        let pca = try PrincipalComponents(fitting: data, components: 6)
        XCTAssertEqual(pca.inputDimension, 40)
        XCTAssertEqual(pca.outputDimension, 6)
        XCTAssertEqual(pca.eigenvalues.count, 6)

        let gram = try ComputeBackend.blas.product(pca.components, pca.components, transposeB: .transposed)
        let identity = try Matrix(rows: 6, columns: 6, values: (0..<36).map { $0 / 6 == $0 % 6 ? 1 : 0 })
        XCTAssertLessThan(try XCTUnwrap(gram.maxAbsoluteDifference(to: identity)), 1e-4)

        for i in 1..<6 { XCTAssertGreaterThanOrEqual(pca.eigenvalues[i - 1], pca.eigenvalues[i]) }
        XCTAssertGreaterThan(pca.eigenvalues[2], 100 * pca.eigenvalues[3])
        XCTAssertGreaterThan(pca.explainedVarianceRatio, 0.99)
        XCTAssertLessThanOrEqual(pca.explainedVarianceRatio, 1)
        // Variance of a uniform coefficient in [-s, s] is s²/3: 25/3, 9/3, 4/3.
        XCTAssertEqual(pca.eigenvalues[0], 25 / 3, accuracy: 25 / 3 * 0.2)
        XCTAssertEqual(pca.eigenvalues[2], 4 / 3, accuracy: 4 / 3 * 0.2)

        // Each known direction lies in the span of the top 3 components: ‖W₃·b‖ ≈ 1.
        let top3 = try Matrix(rows: 3, columns: 40, values: Array(pca.components.values[0..<120]))
        let coordinates = try ComputeBackend.blas.product(basis, top3, transposeB: .transposed)  // (3 × 3)
        for i in 0..<3 {
            var s: Float = 0
            for c in 0..<3 { s += coordinates[i, c] * coordinates[i, c] }
            XCTAssertEqual(s.squareRoot(), 1, accuracy: 1e-3, "basis vector \(i)")
        }
        // The mean is the shift.
        XCTAssertEqual(pca.mean.count, 40)
    }

    /// Projecting onto the dominant subspace keeps each point's nearest neighbours.
    func testProjectionPreservesNeighbours() throws {
        let (data, _) = Self.lowRankData(rows: 300, seed: 12)
        let pca = try PrincipalComponents(fitting: data, components: 3, centered: true)
        XCTAssertTrue(pca.centered)
        // Neighbours of the centered data (what the projection approximates), full dimension vs. reduced.
        var centered = data
        for r in 0..<data.rows { for j in 0..<data.columns { centered[r, j] -= pca.mean[j] } }
        let reduced = try pca.project(data)
        XCTAssertEqual(reduced.rows, 300)
        XCTAssertEqual(reduced.columns, 3)
        var overlap = 0
        for r in 0..<100 {
            overlap += Self.neighbours(centered, of: r, k: 5).intersection(Self.neighbours(reduced, of: r, k: 5)).count
        }
        XCTAssertGreaterThan(Double(overlap) / 500, 0.9)
        // The reduced index finds the same top-5 as brute force on the projected rows.
        let index = try SemanticIndex(embeddings: data, reduction: pca)
        XCTAssertEqual(index.searchDimension, 3)
        XCTAssertEqual(index.queryDimension, 40)
        let hits = try index.search(queries: data, top: 5)
        for r in 0..<20 {
            XCTAssertEqual(hits[r].map(\.index), Self.bruteForce(reduced, Self.row(reduced, r), top: 5).map(\.index))
            XCTAssertEqual(hits[r][0].index, r)  // a point is its own nearest neighbour
        }
    }

    /// Centered, `project` is `P·(x − μ)`: unnormalized projections of the fitted data have mean 0 and
    /// variance λ along each component, or 1 when whitened; projected rows are unit length by default.
    func testProjectionCoordinatesAndWhitening() throws {
        let (data, _) = Self.lowRankData(rows: 500, seed: 13)
        for whiten in [false, true] {
            let pca = try PrincipalComponents(fitting: data, components: 3, whiten: whiten, centered: true)
            XCTAssertEqual(pca.whitened, whiten)
            let y = try pca.project(data, normalize: false)
            for c in 0..<3 {
                var sum: Double = 0, squares: Double = 0
                for r in 0..<y.rows { sum += Double(y[r, c]); squares += Double(y[r, c]) * Double(y[r, c]) }
                let mean = sum / Double(y.rows)
                let variance = (squares - Double(y.rows) * mean * mean) / Double(y.rows - 1)
                XCTAssertEqual(mean, 0, accuracy: 1e-3)
                let expected = whiten ? 1 : Double(pca.eigenvalues[c])
                XCTAssertEqual(variance, expected, accuracy: expected * 1e-3, "component \(c), whiten \(whiten)")
            }
            // Row 0 by hand: y₀ = W·(x₀ − μ) (whitening scales by 1/√λ).
            for c in 0..<3 {
                var dot: Double = 0
                for j in 0..<40 { dot += Double(pca.components[c, j]) * Double(data[0, j] - pca.mean[j]) }
                if whiten { dot /= Double(pca.eigenvalues[c]).squareRoot() }
                XCTAssertEqual(Double(y[0, c]), dot, accuracy: 1e-4)
            }
            let unit = try pca.project(data)
            for r in 0..<10 {
                let norm = (0..<3).map { unit[r, $0] * unit[r, $0] }.reduce(0, +).squareRoot()
                XCTAssertEqual(norm, 1, accuracy: 1e-5)
            }
        }
    }

    /// The eigen-decomposition agrees with the covariance: Σλ over all components equals the trace, and
    /// C·w = λ·w for each kept component (checked against a naive covariance).
    func testEigenpairsSatisfyCovarianceEquation() throws {
        var random = TestRandom(seed: 21)
        let data = random.matrix(60, 12)
        let pca = try PrincipalComponents(fitting: data, components: 12)
        var centered = data
        for r in 0..<60 { for j in 0..<12 { centered[r, j] -= pca.mean[j] } }
        let covariance = try ComputeBackend.naive.product(centered, centered, transposeA: .transposed, alpha: 1 / 59)
        var trace: Float = 0
        for j in 0..<12 { trace += covariance[j, j] }
        XCTAssertEqual(pca.eigenvalues.reduce(0, +), trace, accuracy: trace * 1e-4)
        XCTAssertEqual(pca.totalVariance, trace, accuracy: trace * 1e-4)
        XCTAssertEqual(pca.explainedVarianceRatio, 1, accuracy: 1e-4)
        let cw = try ComputeBackend.naive.product(covariance, pca.components, transposeB: .transposed)  // (12, 12)
        for c in 0..<12 {
            for i in 0..<12 {
                XCTAssertEqual(cw[i, c], pca.eigenvalues[c] * pca.components[c, i], accuracy: 1e-4)
            }
        }
    }

    /// Not centered (the default), `project` is `P·x`: the same components, and coordinates that differ
    /// from the centered ones by exactly `P·μ`.
    func testUncenteredProjectionIsPlainProduct() throws {
        let (data, _) = Self.lowRankData(rows: 200, seed: 14)
        let plain = try PrincipalComponents(fitting: data, components: 4)
        let centered = try PrincipalComponents(fitting: data, components: 4, centered: true)
        XCTAssertFalse(plain.centered)
        XCTAssertEqual(plain.components, centered.components)
        XCTAssertEqual(plain.eigenvalues, centered.eigenvalues)
        let y = try plain.project(data, normalize: false)
        let expected = try ComputeBackend.naive.product(data, plain.components, transposeB: .transposed)
        XCTAssertLessThan(try XCTUnwrap(y.maxAbsoluteDifference(to: expected)), 1e-4)
        let yc = try centered.project(data, normalize: false)
        for c in 0..<4 {
            var pm: Float = 0
            for j in 0..<40 { pm += plain.components[c, j] * plain.mean[j] }
            for r in 0..<5 { XCTAssertEqual(y[r, c] - yc[r, c], pm, accuracy: 1e-4) }
        }
    }

    /// Invalid fits are typed errors.
    func testPrincipalComponentsErrors() throws {
        let data = Self.unitVectors(10, 8, seed: 7)
        XCTAssertThrowsError(try PrincipalComponents(fitting: data, components: 0)) {
            XCTAssertEqual($0 as? SearchError, .invalidComponentCount(requested: 0, available: 8))
        }
        XCTAssertThrowsError(try PrincipalComponents(fitting: data, components: 9)) {
            XCTAssertEqual($0 as? SearchError, .invalidComponentCount(requested: 9, available: 8))
        }
        XCTAssertThrowsError(try PrincipalComponents(fitting: Self.unitVectors(1, 8, seed: 8), components: 2)) {
            XCTAssertEqual($0 as? SearchError, .tooFewSamples(rows: 1))
        }
        var bad = data
        bad[4, 1] = .infinity
        XCTAssertThrowsError(try PrincipalComponents(fitting: bad, components: 2)) {
            XCTAssertEqual($0 as? SearchError, .nonFiniteValue(row: 4))
        }
        XCTAssertThrowsError(try SemanticIndex(embeddings: data, reducedTo: 20)) {
            XCTAssertEqual($0 as? SearchError, .invalidComponentCount(requested: 20, available: 8))
        }
        let pca = try PrincipalComponents(fitting: data, components: 2)
        XCTAssertThrowsError(try pca.project(Self.unitVectors(3, 7, seed: 9))) {
            XCTAssertEqual($0 as? SearchError, .dimensionMismatch(expected: 8, actual: 7))
        }
        // Constant data: zero variance is fine (eigenvalues 0), also whitened, and stays finite.
        let constant = try Matrix(rows: 5, columns: 4, repeating: 0.5)
        let flat = try PrincipalComponents(fitting: constant, components: 2, whiten: true)
        XCTAssertEqual(flat.eigenvalues, [0, 0])
        XCTAssertEqual(flat.explainedVarianceRatio, 1)
        XCTAssertFalse(try flat.project(constant).values.contains { !$0.isFinite })
    }

    // MARK: - With the default model

    /// all-MiniLM-L6-v2 on paraphrase pairs: every sentence's nearest neighbour (itself excluded) is
    /// its paraphrase, in full dimension.
    func testNearestNeighbourIsParaphrase() throws {
        let encoder = try SentenceEncoder(modelFolder: TestSupport.defaultModelFolder())
        let pairs = [
            ("A man is playing a guitar.", "Someone is strumming a guitar."),
            ("The cat sat on the mat.", "A cat is sitting on a rug."),
            ("The stock market fell sharply today.", "Share prices dropped steeply this afternoon."),
            ("How do I bake bread at home?", "What is a good recipe for homemade bread?"),
            ("The weather will be rainy tomorrow.", "Expect showers and wet conditions tomorrow."),
            ("She is reading a novel in the library.", "A woman reads a book at the library."),
        ]
        let sentences = pairs.flatMap { [$0.0, $0.1] }
        let batch = try encoder.encode(sentences, batchSize: 4)
        let index = try SemanticIndex(batch)
        XCTAssertEqual(index.count, 12)
        let hits = try index.search(queries: batch.embeddings, top: 2)
        for (i, sentence) in sentences.enumerated() {
            XCTAssertEqual(hits[i][0].index, i, "a sentence is its own best match")
            XCTAssertEqual(hits[i][0].score, 1, accuracy: 1e-4)
            let paraphrase = i ^ 1
            XCTAssertEqual(hits[i][1].index, paraphrase, "nearest neighbour of '\(sentence)' is '\(sentences[hits[i][1].index])'")
            XCTAssertGreaterThan(hits[i][1].score, 0.5)
        }
    }
}
