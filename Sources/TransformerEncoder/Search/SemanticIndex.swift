/// One result of a semantic search: which corpus row, and how similar it is to the query.
public struct SearchHit: Sendable, Hashable, CustomStringConvertible {
    /// Row of the corpus embeddings (the position of the text in the corpus given to the index).
    public let index: Int
    /// Cosine similarity to the query, in [-1, 1] (computed in the reduced space when the index is reduced).
    public let score: Float

    /// A hit for corpus row `index` with similarity `score`.
    public init(index: Int, score: Float) {
        self.index = index
        self.score = score
    }

    /// `index: score`, as in `17: 0.8123`.
    public var description: String { "\(index): \(score)" }
}

/// What can go wrong when building or querying a ``SemanticIndex`` or fitting ``PrincipalComponents``.
public enum SearchError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The corpus has no rows (or no columns).
    case emptyCorpus
    /// Vectors of width `actual` were given where `expected` is needed (queries against the index,
    /// or rows against a projection).
    case dimensionMismatch(expected: Int, actual: Int)
    /// The number of hits asked for is not positive.
    case invalidTopK(Int)
    /// A NaN or infinite value in the input, at row `row`.
    case nonFiniteValue(row: Int)
    /// PCA was asked for `requested` components of `available`-dimensional data (1...available is valid).
    case invalidComponentCount(requested: Int, available: Int)
    /// PCA needs at least two rows to estimate a covariance; `rows` were given.
    case tooFewSamples(rows: Int)
    /// A LAPACK routine returned a non-zero `info` (negative: argument `-info` was illegal; positive: no convergence).
    case lapackFailure(routine: String, info: Int)
    /// A matrix product inside the search did not fit (a bug in this library, never the caller's input).
    case internalShapeMismatch(String)

    /// One line naming the problem.
    public var description: String {
        switch self {
        case .emptyCorpus:
            return "the corpus is empty"
        case let .dimensionMismatch(expected, actual):
            return "vectors have \(actual) dimensions, \(expected) expected"
        case let .invalidTopK(k):
            return "the number of hits must be positive, got \(k)"
        case let .nonFiniteValue(row):
            return "row \(row) holds a NaN or infinite value"
        case let .invalidComponentCount(requested, available):
            return "cannot keep \(requested) principal components of \(available)-dimensional data (1...\(available))"
        case let .tooFewSamples(rows):
            return "principal components need at least 2 rows, got \(rows)"
        case let .lapackFailure(routine, info):
            return "LAPACK \(routine) failed with info \(info)"
        case let .internalShapeMismatch(reason):
            return "internal error in the search: \(reason)"
        }
    }
}

/// Exact cosine-similarity search over a corpus of embeddings, ranked with one BLAS GEMM per query batch.
///
/// The corpus rows are scaled to unit length once, when the index is built (a model that already
/// normalizes, like all-MiniLM-L6-v2, is unaffected), so the dot product of a unit query with a row is
/// their cosine similarity. ``search(queries:top:threads:)`` normalizes the queries, computes all
/// scores `S = Q·Cᵀ` with a single `cblas_sgemm` (``ComputeBackend/blas``), and keeps each query's best
/// `k` rows with a bounded heap: `O(n log k)` per query, the corpus is never sorted.
///
/// An index can be built *reduced* (``init(embeddings:reduction:)``): the corpus is projected onto the
/// top principal components once, and each query batch is projected with one more GEMM before scoring.
///
/// ```swift
/// let corpus = try encoder.encode(lines)
/// let index = try SemanticIndex(corpus)
/// let hits = try index.search(queries: encoder.encode(["Where is the cat?"]).embeddings, top: 5)
/// for hit in hits[0] { print(lines[hit.index], hit.score) }
/// ```
///
/// `SemanticIndex` is an immutable value and `Sendable`: share it between tasks freely.
public struct SemanticIndex: Sendable {
    /// The corpus as searched: one unit-length row per corpus entry, in the reduced space when
    /// ``reduction`` is set.
    public let embeddings: Matrix
    /// The projection applied to the corpus and to every query batch, or `nil` for full-dimension search.
    public let reduction: PrincipalComponents?

    /// Number of corpus entries.
    public var count: Int { embeddings.rows }
    /// Width of the query vectors ``search(queries:top:threads:)`` expects (the model's embedding width,
    /// also for a reduced index).
    public var queryDimension: Int { reduction?.inputDimension ?? embeddings.columns }
    /// Width of the vectors actually compared: the reduced dimension, or ``queryDimension``.
    public var searchDimension: Int { embeddings.columns }

    /// Largest score block computed by one GEMM, in floats (64 MiB): bigger query batches are split
    /// into consecutive blocks of rows, each one GEMM.
    static let maximumScoreBlock = 1 << 24

    /// An index over `embeddings` (one row per corpus entry), full dimension.
    ///
    /// - Throws: ``SearchError/emptyCorpus`` for no rows or no columns, ``SearchError/nonFiniteValue(row:)``.
    public init(embeddings: Matrix) throws(SearchError) {
        guard embeddings.rows > 0, embeddings.columns > 0 else { throw .emptyCorpus }
        try Self.checkFinite(embeddings)
        self.embeddings = EmbeddingRows.normalizedRows(embeddings)
        self.reduction = nil
    }

    /// An index over the embeddings of an ``EmbeddingBatch``, full dimension.
    public init(_ batch: EmbeddingBatch) throws(SearchError) {
        try self.init(embeddings: batch.embeddings)
    }

    /// A reduced index: `embeddings` are projected once with `reduction` (then re-normalized), and every
    /// query batch is projected the same way before it is scored.
    ///
    /// - Throws: ``SearchError/dimensionMismatch(expected:actual:)`` when the rows are not as wide as the
    ///   projection's input, and the errors of ``init(embeddings:)``.
    public init(embeddings: Matrix, reduction: PrincipalComponents) throws(SearchError) {
        guard embeddings.rows > 0, embeddings.columns > 0 else { throw .emptyCorpus }
        try Self.checkFinite(embeddings)
        self.embeddings = try reduction.project(embeddings, normalize: true)
        self.reduction = reduction
    }

    /// A reduced index whose projection is fitted on the corpus itself: the top `dimensions` principal
    /// components of `embeddings` (see ``PrincipalComponents/init(fitting:components:whiten:centered:)``).
    public init(
        embeddings: Matrix, reducedTo dimensions: Int, whiten: Bool = false, centered: Bool = false
    ) throws(SearchError) {
        guard embeddings.rows > 0, embeddings.columns > 0 else { throw .emptyCorpus }
        let reduction = try PrincipalComponents(
            fitting: embeddings, components: dimensions, whiten: whiten, centered: centered)
        try self.init(embeddings: embeddings, reduction: reduction)
    }

    /// The `k` corpus entries most similar to each query, best first.
    ///
    /// Scores are cosine similarities (queries are normalized here; a zero query scores 0 everywhere;
    /// a query holding NaN or infinity is ``SearchError/nonFiniteValue(row:)``).
    /// Equal scores rank the lower index first. With `k ≥ count`, every entry is returned, ranked.
    ///
    /// - Parameters:
    ///   - queries: (queries, ``queryDimension``) embeddings, e.g. ``SentenceEncoder/encode(_:batchSize:options:prompt:promptName:truncateDimension:normalize:progress:)``'s.
    ///   - k: hits per query; positive.
    ///   - threads: threads for the top-k selection (the GEMM runs with OpenBLAS's own setting); all cores when `nil`.
    /// - Returns: one array of `min(k, count)` hits per query row, in query order.
    public func search(queries: Matrix, top k: Int, threads: Int? = nil) throws(SearchError) -> [[SearchHit]] {
        guard k > 0 else { throw .invalidTopK(k) }
        guard queries.columns == queryDimension else {
            throw .dimensionMismatch(expected: queryDimension, actual: queries.columns)
        }
        guard queries.rows > 0 else { return [] }
        try Self.checkFinite(queries)
        let q: Matrix
        if let reduction {
            q = try reduction.project(queries, normalize: true)
        } else {
            q = EmbeddingRows.normalizedRows(queries)
        }
        let n = count
        let keep = min(k, n)
        let workers = max(1, threads ?? Parallel.availableCores)
        var results = [[SearchHit]](repeating: [], count: q.rows)
        let blockRows = max(1, min(q.rows, Self.maximumScoreBlock / n))
        var scores = try Self.checked { () throws(MatrixError) in try Matrix(rows: blockRows, columns: n) }
        for blockStart in stride(from: 0, to: q.rows, by: blockRows) {
            let rows = min(blockRows, q.rows - blockStart)
            // S(rows × n) = Q[block] · Cᵀ: one GEMM for the whole block.
            try Self.checked { () throws(MatrixError) in
                let block = rows == q.rows ? q : try q.rows(blockStart..<(blockStart + rows))
                if scores.rows != rows { scores = try Matrix(rows: rows, columns: n) }
                try ComputeBackend.blas.multiply(block, embeddings, into: &scores, transposeB: .transposed)
            }
            // Top-k of each row, rows spread over the workers (each writes only its own results).
            results.withUnsafeMutableBufferPointer { out in
                scores.values.withUnsafeBufferPointer { ps in
                    Parallel.forEachChunk(count: rows, threads: workers, minimumChunk: 16) { range in
                        for r in range {
                            out[blockStart + r] = Self.topK(UnsafeBufferPointer(rebasing: ps[(r * n)..<((r + 1) * n)]), keep)
                        }
                    }
                }
            }
        }
        return results
    }

    /// Runs a matrix-layer step whose shapes this type guarantees; a failure would be a bug here, reported
    /// as ``SearchError/internalShapeMismatch(_:)`` rather than trapping.
    static func checked<T>(_ body: () throws(MatrixError) -> T) throws(SearchError) -> T {
        do {
            return try body()
        } catch {
            throw .internalShapeMismatch(error.description)
        }
    }

    /// The `k` corpus entries most similar to one query vector of ``queryDimension`` floats.
    public func search(query: [Float], top k: Int) throws(SearchError) -> [SearchHit] {
        let matrix: Matrix
        do {
            matrix = try Matrix(rows: 1, columns: query.count, values: query)
        } catch {
            throw .dimensionMismatch(expected: queryDimension, actual: query.count)
        }
        return try search(queries: matrix, top: k, threads: 1)[0]
    }

    // MARK: - Internals

    /// Whether hit `a` ranks before hit `b`: higher score, then lower index; NaN ranks last.
    /// (Scores are finite: corpus and queries are checked. NaN is handled anyway.)
    @inline(__always)
    static func ranksBefore(_ aScore: Float, _ aIndex: Int, _ bScore: Float, _ bIndex: Int) -> Bool {
        let a = aScore.isNaN ? -Float.infinity : aScore
        let b = bScore.isNaN ? -Float.infinity : bScore
        return a > b || (a == b && aIndex < bIndex)
    }

    /// The best `k` of `scores` (k ≤ count), best first: a min-heap of the `k` best seen so far, whose
    /// root (the worst kept) is replaced whenever a better score comes along.
    static func topK(_ scores: UnsafeBufferPointer<Float>, _ k: Int) -> [SearchHit] {
        var heapScores = [Float](repeating: 0, count: k)
        var heapIndices = [Int](repeating: 0, count: k)
        var size = 0
        heapScores.withUnsafeMutableBufferPointer { hs in
            heapIndices.withUnsafeMutableBufferPointer { hi in
                // Heap order: a parent ranks after its children, so the root is the worst hit kept.
                func siftDown(_ start: Int) {
                    var i = start
                    while true {
                        let l = 2 * i + 1, r = l + 1
                        var worst = i
                        if l < size, ranksBefore(hs[worst], hi[worst], hs[l], hi[l]) { worst = l }
                        if r < size, ranksBefore(hs[worst], hi[worst], hs[r], hi[r]) { worst = r }
                        if worst == i { return }
                        hs.swapAt(i, worst)
                        hi.swapAt(i, worst)
                        i = worst
                    }
                }
                func siftUp(_ start: Int) {
                    var i = start
                    while i > 0 {
                        let parent = (i - 1) / 2
                        // The parent must rank last of the two.
                        guard ranksBefore(hs[parent], hi[parent], hs[i], hi[i]) else { return }
                        hs.swapAt(i, parent)
                        hi.swapAt(i, parent)
                        i = parent
                    }
                }
                // Fill the heap with the first k, then only a score above the root's can enter: indices only
                // grow, so an equal score ranks after the root (and a NaN compares false and never enters).
                for j in 0..<k {
                    hs[j] = scores[j].isNaN ? -.infinity : scores[j]
                    hi[j] = j
                    size = j + 1
                    siftUp(j)
                }
                var threshold = hs[0]
                for j in k..<scores.count where scores[j] > threshold {
                    hs[0] = scores[j]
                    hi[0] = j
                    siftDown(0)
                    threshold = hs[0]
                }
            }
        }
        var hits = (0..<size).map { SearchHit(index: heapIndices[$0], score: heapScores[$0]) }
        hits.sort { ranksBefore($0.score, $0.index, $1.score, $1.index) }
        return hits
    }

    /// Throws ``SearchError/nonFiniteValue(row:)`` for the first row holding a NaN or infinity.
    static func checkFinite(_ matrix: Matrix) throws(SearchError) {
        if let row = EmbeddingRows.firstNonFiniteRow(matrix) { throw .nonFiniteValue(row: row) }
    }
}
