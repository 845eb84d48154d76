import XCTest
@testable import TransformerEncoder

final class MatrixTests: XCTestCase {
    /// A product small enough to do by hand.
    func testHandComputedProduct() throws {
        // [1 2 3]   [ 7  8]   [1·7+2·9+3·11  1·8+2·10+3·12]   [ 58  64]
        // [4 5 6] · [ 9 10] = [4·7+5·9+6·11  4·8+5·10+6·12] = [139 154]
        //           [11 12]
        let a = try Matrix(rows: 2, columns: 3, values: [1, 2, 3, 4, 5, 6])
        let b = try Matrix(rows: 3, columns: 2, values: [7, 8, 9, 10, 11, 12])
        for backend in ComputeBackend.allCases {
            let c = try backend.product(a, b)
            XCTAssertEqual(c.values, [58, 64, 139, 154], "\(backend)")
            // Aᵀ given as stored transpose: same result.
            let at = try Matrix(rows: 3, columns: 2, values: [1, 4, 2, 5, 3, 6])
            XCTAssertEqual(try backend.product(at, b, transposeA: .transposed).values, [58, 64, 139, 154], "\(backend)")
            // α and β: C = 2·A·B + 0.5·C
            var d = try Matrix(rows: 2, columns: 2, values: [2, 4, 6, 8])
            try backend.multiply(a, b, into: &d, alpha: 2, beta: 0.5)
            XCTAssertEqual(d.values, [117, 130, 281, 312], "\(backend)")
        }
    }

    /// BLAS against naive on random shapes, all four transpose combinations, α/β not 0/1.
    func testBLASMatchesNaiveOnRandomShapes() throws {
        var random = TestRandom(seed: 42)
        let shapes = [(1, 1, 1), (7, 13, 5), (2, 3, 1), (1, 64, 1), (33, 1, 17), (129, 385, 1153), (16, 384, 1536)]
        var worst: Float = 0
        for (m, n, k) in shapes {
            for ta in [Transpose.none, .transposed] {
                for tb in [Transpose.none, .transposed] {
                    let a = ta == .none ? random.matrix(m, k) : random.matrix(k, m)
                    let b = tb == .none ? random.matrix(k, n) : random.matrix(n, k)
                    let c0 = random.matrix(m, n)
                    var blas = c0, naive = c0
                    try ComputeBackend.blas.multiply(a, b, into: &blas, transposeA: ta, transposeB: tb, alpha: 0.75, beta: -1.25)
                    try ComputeBackend.naive.multiply(a, b, into: &naive, transposeA: ta, transposeB: tb, alpha: 0.75, beta: -1.25)
                    let difference = try XCTUnwrap(blas.maxAbsoluteDifference(to: naive))
                    worst = max(worst, difference)
                    XCTAssertLessThan(difference, 1e-5 * Float(k).squareRoot() * 2, "\(m)×\(n)×\(k) \(ta) \(tb)")
                }
            }
        }
        print("BLAS vs naive GEMM: max |difference| = \(worst)")
    }

    /// The row-split threaded product equals the single call, for any thread count and more threads than rows.
    func testThreadedProductMatchesSingleCall() throws {
        var random = TestRandom(seed: 11)
        for (m, n, k) in [(1, 5, 3), (7, 13, 5), (64, 96, 40)] {
            for tb in [Transpose.none, .transposed] {
                let a = random.matrix(m, k)
                let b = tb == .none ? random.matrix(k, n) : random.matrix(n, k)
                let c0 = random.matrix(m, n)
                for backend in ComputeBackend.allCases {
                    var single = c0
                    try backend.multiply(a, b, into: &single, transposeB: tb, alpha: 1.5, beta: 0.5)
                    for threads in [1, 2, 3, 16] {
                        var split = c0
                        try backend.multiply(a, b, into: &split, transposeB: tb, alpha: 1.5, beta: 0.5, threads: threads)
                        // Same products; OpenBLAS may order a block's sums differently at its edges.
                        let difference = try XCTUnwrap(split.maxAbsoluteDifference(to: single))
                        XCTAssertLessThan(difference, 1e-5, "\(m)×\(n)×\(k) \(tb) \(backend) threads \(threads)")
                        if backend == .naive { XCTAssertEqual(difference, 0, "naive: identical loops per row") }
                    }
                }
            }
        }
        var wrong = try Matrix(rows: 2, columns: 2)
        XCTAssertThrowsError(try ComputeBackend.blas.multiply(try Matrix(rows: 2, columns: 3), try Matrix(rows: 2, columns: 2), into: &wrong, threads: 2))
    }

    /// β = 0 must ignore whatever C held (even NaN), as BLAS does.
    func testBetaZeroOverwritesGarbage() throws {
        let a = try Matrix(rows: 2, columns: 2, values: [1, 0, 0, 1])
        for backend in ComputeBackend.allCases {
            var c = try Matrix(rows: 2, columns: 2, values: [.nan, .nan, .infinity, 3])
            try backend.multiply(a, a, into: &c)
            XCTAssertEqual(c.values, [1, 0, 0, 1], "\(backend)")
        }
    }

    func testShapeMismatchesAreRejected() throws {
        let a = try Matrix(rows: 2, columns: 3)
        let b = try Matrix(rows: 2, columns: 3)
        for backend in ComputeBackend.allCases {
            XCTAssertThrowsError(try backend.product(a, b)) { error in
                XCTAssertEqual(error as? MatrixError, .productShapeMismatch(a: "2×3", b: "2×3", c: "2×3"))
            }
            var wrongC = try Matrix(rows: 3, columns: 3)
            XCTAssertThrowsError(try backend.multiply(a, b, into: &wrongC, transposeB: .transposed))
            XCTAssertNoThrow(try backend.product(a, b, transposeB: .transposed))
        }
        XCTAssertThrowsError(try Matrix(rows: 2, columns: 2, values: [1, 2, 3])) { error in
            XCTAssertEqual(error as? MatrixError, .elementCountMismatch(rows: 2, columns: 2, count: 3))
        }
        XCTAssertThrowsError(try Matrix(rows: -1, columns: 2))
        XCTAssertThrowsError(try Matrix(rows: Int.max, columns: 2))
    }

    func testEmptyDimensions() throws {
        for backend in ComputeBackend.allCases {
            // k = 0: C = β·C
            let a = try Matrix(rows: 2, columns: 0)
            let b = try Matrix(rows: 0, columns: 2)
            var c = try Matrix(rows: 2, columns: 2, values: [1, 2, 3, 4])
            try backend.multiply(a, b, into: &c, beta: 2)
            XCTAssertEqual(c.values, [2, 4, 6, 8], "\(backend)")
        }
    }

    // MARK: Invariants

    /// The probe of issue 10: `a.values.removeLast(4000)` compiled and the naive backend then read past the
    /// end. `values` is now `public private(set)`, so the probe no longer compiles (not even here, under
    /// `@testable import`); in-place changes go through the subscript or a buffer of fixed size.
    func testValuesCannotBeResizedFromOutside() throws {
        var a = try Matrix(rows: 100, columns: 50, repeating: 1)
        let count = a.withUnsafeMutableValues { buffer -> Int in
            buffer[0] = 7
            buffer[buffer.count - 1] = 9
            return buffer.count
        }
        XCTAssertEqual(count, 5000)
        XCTAssertEqual(a.values.count, 5000)
        XCTAssertEqual(a[0, 0], 7)
        XCTAssertEqual(a[99, 49], 9)
        a[1, 2] = 3
        XCTAssertEqual(a.values[52], 3)
        for backend in ComputeBackend.allCases {
            XCTAssertEqual(try backend.product(a, a, transposeB: .transposed).shape.rows, 100)
        }
    }

    func testRowRanges() throws {
        let a = try Matrix(rows: 3, columns: 2, values: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try a.rows(1..<3), try Matrix(rows: 2, columns: 2, values: [3, 4, 5, 6]))
        XCTAssertEqual(try a.rows(3..<3).rows, 0)
        XCTAssertThrowsError(try a.rows(2..<4)) { error in
            XCTAssertEqual(error as? MatrixError, .rowRangeOutOfBounds(range: 2..<4, rows: 3))
        }
    }

    /// The shared row helpers: F.normalize semantics and the first non-finite row.
    func testRowHelpers() throws {
        let a = try Matrix(rows: 3, columns: 2, values: [3, 4, 0, 0, -1e-20, 0])
        let n = EmbeddingRows.normalizedRows(a)
        XCTAssertEqual(n.values, [0.6, 0.8, 0, 0, -1e-8, 0])  // a tiny row is divided by 1e-12, not by its norm
        XCTAssertNil(EmbeddingRows.firstNonFiniteRow(a))
        let b = try Matrix(rows: 3, columns: 2, values: [1, 2, 3, .infinity, .nan, 0])
        XCTAssertEqual(EmbeddingRows.firstNonFiniteRow(b), 1)
        XCTAssertNil(EmbeddingRows.firstNonFiniteRow(try Matrix(rows: 2, columns: 0)))
        XCTAssertEqual(EmbeddingRows.firstNonFiniteRow([1, 2, 3, 4, 5, .nan], columns: 3), 1)
        XCTAssertNil(EmbeddingRows.firstNonFiniteRow([1, 2, 3], columns: 3))
    }

    /// Matryoshka truncation (the server's `dimensions`): the first columns, then F.normalize on what is kept.
    func testTruncatedRows() throws {
        let values: [Float] = [3, 4, 12, 0, 0, 5, -1e-20, 0, 7]
        XCTAssertEqual(EmbeddingRows.truncated(values, columns: 3, to: 3, normalize: false), values)
        XCTAssertEqual(EmbeddingRows.truncated(values, columns: 3, to: 2, normalize: false), [3, 4, 0, 0, -1e-20, 0])
        XCTAssertEqual(EmbeddingRows.truncated(values, columns: 3, to: 2, normalize: true), [0.6, 0.8, 0, 0, -1e-8, 0])
        let full = EmbeddingRows.normalizedRows(try Matrix(rows: 3, columns: 3, values: values))
        XCTAssertEqual(EmbeddingRows.truncated(values, columns: 3, to: 3, normalize: true), full.values)
    }

    /// The naive backend is the textbook triple loop: for every layout, each element is the `Float` sum of
    /// its products in order `p = 0, 1, …`, so it equals that sum computed here bit for bit.
    func testNaiveBackendIsTheTextbookTripleLoop() throws {
        var random = TestRandom(seed: 7)
        let (m, n, k) = (5, 7, 33)
        for ta in [Transpose.none, .transposed] {
            for tb in [Transpose.none, .transposed] {
                let a = ta == .none ? random.matrix(m, k) : random.matrix(k, m)
                let b = tb == .none ? random.matrix(k, n) : random.matrix(n, k)
                let c = try ComputeBackend.naive.product(a, b, transposeA: ta, transposeB: tb)
                for i in 0..<m {
                    for j in 0..<n {
                        var sum: Float = 0
                        for p in 0..<k {
                            sum += (ta == .none ? a[i, p] : a[p, i]) * (tb == .none ? b[p, j] : b[j, p])
                        }
                        XCTAssertEqual(c[i, j], sum, "\(ta) \(tb) [\(i), \(j)]")
                    }
                }
            }
        }
    }
}
