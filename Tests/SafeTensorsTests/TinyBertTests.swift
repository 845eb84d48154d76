import Foundation
import XCTest
@testable import SafeTensors

/// Reads the real tiny-bert checkpoint (written by `BertModel.save_pretrained`) and its
/// reference outputs. Expected numbers were computed with numpy by parsing the files by hand:
///
///     b = open(path, 'rb').read(); n = struct.unpack('<Q', b[:8])[0]
///     h = json.loads(b[8:8+n]); d = b[8+n:]
///     a = np.frombuffer(d[s:e], dtype='<f4')          # s, e = h[name]['data_offsets']
///     a[0], a[-1], a[37 % a.size], a.astype(np.float64).sum(), np.abs(a.astype(np.float64)).sum()
final class TinyBertTests: XCTestCase {
    func testModelHeader() throws {
        let file = try SafeTensorsFile(contentsOf: Fixtures.tinyBertModel)
        XCTAssertEqual(file.name, Fixtures.tinyBertModel.path)
        XCTAssertEqual(file.metadata, ["format": "pt"])
        // 5 embedding tensors + 16 per layer × 2 layers.
        XCTAssertEqual(file.tensorNames.count, 37)
        XCTAssertEqual(file.tensorNames, file.tensorNames.sorted())
        XCTAssertEqual(file.tensorNames.first, "embeddings.LayerNorm.bias")
        XCTAssertEqual(file.tensorNames.last, "encoder.layer.1.output.dense.weight")
        XCTAssertFalse(file.tensorNames.contains("__metadata__"))

        XCTAssertEqual(file.info("embeddings.word_embeddings.weight"),
                       TensorInfo(name: "embeddings.word_embeddings.weight", dtype: .F32, shape: [100, 32], byteRange: 8704..<21504))
        let dense = try XCTUnwrap(file.info("encoder.layer.1.output.dense.weight"))
        XCTAssertEqual(dense.shape, [32, 64])
        XCTAssertEqual(dense.elementCount, 2048)
        XCTAssertEqual(dense.byteRange, 81664..<89856)
        XCTAssertEqual(file.info("embeddings.position_embeddings.weight")?.shape, [64, 32])
        XCTAssertEqual(file.info("encoder.layer.0.intermediate.dense.weight")?.shape, [64, 32])
        XCTAssertNil(file.info("pooler.dense.weight"))
        XCTAssertEqual(file.headerLength, 3792)
        XCTAssertEqual(file.dataSize, 93656 - 8 - 3792)
    }

    func testModelValuesMatchNumpy() throws {
        let file = try SafeTensorsFile(contentsOf: Fixtures.tinyBertModel)
        // (name, shape, a[0], a[-1], a[37 % a.size], sum, sum of |a|) from numpy, see the type comment.
        let expected: [(String, [Int], Float, Float, Float, Double, Double)] = [
            ("embeddings.word_embeddings.weight", [100, 32],
             -0.2742222249507904, -0.19260625541210175, -0.3564346730709076, -20.871005802247964, 517.5453838929898),
            ("encoder.layer.1.output.dense.weight", [32, 64],
             -0.17096474766731262, -0.012969779781997204, 0.16167312860488892, -3.8643437094433466, 327.7510313603707),
            ("embeddings.LayerNorm.weight", [32],
             -0.05255710706114769, -0.42253920435905457, -0.15323211252689362, 0.7312274416908622, 5.150016785599291),
        ]
        for (name, shape, first, last, at37, sum, absSum) in expected {
            let t = try file.floatTensor(name, shape: shape)
            XCTAssertEqual(t.name, name)
            XCTAssertEqual(t.shape, shape)
            XCTAssertEqual(t.count, shape.reduce(1, *))
            XCTAssertTrue(t.isBorrowed, "aligned F32 should be used in place")
            XCTAssertEqual(t.buffer.first, first, name)
            XCTAssertEqual(t.buffer.last, last, name)
            XCTAssertEqual(t.buffer[37 % t.count], at37, name)
            XCTAssertEqual(t.buffer.reduce(0.0) { $0 + Double($1) }, sum, accuracy: 1e-9, name)
            XCTAssertEqual(t.buffer.reduce(0.0) { $0 + abs(Double($1)) }, absSum, accuracy: 1e-9, name)
            XCTAssertEqual(t.toArray(), Array(t.buffer))
        }
    }

    func testShapeMismatchNamesBothShapes() throws {
        let file = try SafeTensorsFile(contentsOf: Fixtures.tinyBertModel)
        let path = Fixtures.tinyBertModel.path
        let name = "encoder.layer.0.attention.self.query.weight"
        let error = assertSafeTensorsError(.shapeMismatch(expected: [32, 31], actual: [32, 32]), file: path, tensor: name) { () throws(SafeTensorsError) in
            _ = try file.floatTensor(name, shape: [32, 31])
        }
        XCTAssertEqual(error?.description, "\(path): tensor '\(name)': shape [32, 32] but expected [32, 31]")
    }

    func testMissingTensorNamesTensorAndFile() throws {
        let file = try SafeTensorsFile(contentsOf: Fixtures.tinyBertModel)
        let path = Fixtures.tinyBertModel.path
        assertSafeTensorsError(.tensorNotFound, file: path, tensor: "pooler.dense.weight") { () throws(SafeTensorsError) in
            _ = try file.floatTensor("pooler.dense.weight", shape: [32, 32])
        }
        assertSafeTensorsError(.tensorNotFound, file: path, tensor: "nope") { () throws(SafeTensorsError) in
            _ = try file.intTensor("nope")
        }
        assertSafeTensorsError(.unsupportedDType(.F32, operation: "as integers"), file: path, tensor: "embeddings.LayerNorm.bias") { () throws(SafeTensorsError) in
            _ = try file.intTensor("embeddings.LayerNorm.bias")
        }
    }

    func testTensorOutlivesFile() throws {
        var file: SafeTensorsFile? = try SafeTensorsFile(contentsOf: Fixtures.tinyBertModel)
        let t = try file!.floatTensor("embeddings.word_embeddings.weight")
        file = nil
        // The borrowed tensor keeps the mapping alive.
        XCTAssertEqual(t.pointer[0], -0.2742222249507904)
        XCTAssertEqual(t.pointer[t.count - 1], -0.19260625541210175)
    }

    func testExpectedOutputs() throws {
        let file = try SafeTensorsFile(contentsOf: Fixtures.tinyBertExpected)
        XCTAssertEqual(file.tensorNames, ["attention_mask", "hidden_states.0", "hidden_states.1", "hidden_states.2",
                                          "input_ids", "last_hidden_state", "token_type_ids"])
        XCTAssertEqual(file.metadata, [:])
        let ids = try file.intTensor("input_ids")
        XCTAssertEqual(ids.shape, [4, 12])
        // np.frombuffer(..., dtype='<i4').reshape(4, 12).tolist()
        XCTAssertEqual(ids.values, [
            37, 59, 35, 21, 14, 0, 0, 0, 0, 0, 0, 0,
            88, 45, 51, 5, 36, 98, 74, 72, 52, 93, 68, 91,
            20, 40, 7, 76, 95, 15, 19, 71, 84, 0, 0, 0,
            93, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ])
        let mask = try file.intTensor("attention_mask")
        XCTAssertEqual(mask.shape, [4, 12])
        // Sequence lengths 5, 12, 9, 1.
        XCTAssertEqual(stride(from: 0, to: 48, by: 12).map { mask.values[$0..<$0 + 12].reduce(0, +) }, [5, 12, 9, 1])

        let last = try file.floatTensor("last_hidden_state", shape: [4, 12, 32])
        XCTAssertEqual(last.buffer.first, -0.1079443171620369)
        XCTAssertEqual(last.buffer.last, 0.20681944489479065)
        XCTAssertEqual(last.buffer.reduce(0.0) { $0 + Double($1) }, -3.2345421375357546, accuracy: 1e-9)
        assertSafeTensorsError(.unsupportedDType(.I32, operation: "as Float32"), file: Fixtures.tinyBertExpected.path, tensor: "input_ids") { () throws(SafeTensorsError) in
            _ = try file.floatTensor("input_ids")
        }
    }

    func testMappedAndInMemoryAgree() throws {
        let mapped = try SafeTensorsFile(contentsOf: Fixtures.tinyBertModel)
        let memory = try SafeTensorsFile(bytes: Fixtures.bytes(of: Fixtures.tinyBertModel), name: "model.safetensors")
        XCTAssertEqual(memory.name, "model.safetensors")
        XCTAssertEqual(mapped.tensorNames, memory.tensorNames)
        XCTAssertEqual(mapped.metadata, memory.metadata)
        for name in mapped.tensorNames {
            XCTAssertEqual(mapped.info(name), memory.info(name))
            XCTAssertEqual(try mapped.floatTensor(name).toArray(), try memory.floatTensor(name).toArray(), name)
        }
    }

    func testConcurrentReads() throws {
        let file = try SafeTensorsFile(contentsOf: Fixtures.tinyBertModel)
        let names = file.tensorNames
        DispatchQueue.concurrentPerform(iterations: 64) { i in
            let name = names[i % names.count]
            let t = try? file.floatTensor(name)
            XCTAssertEqual(t?.count, file.info(name)?.elementCount)
        }
    }

    /// The all-MiniLM-L6-v2 reference batch (Tests/Fixtures/minilm_padded_batch.safetensors);
    /// numbers from numpy as described above.
    func testMiniLMReferenceBatch() throws {
        let url = Fixtures.root.appendingPathComponent("minilm_padded_batch.safetensors")
        let file = try SafeTensorsFile(contentsOf: url)
        XCTAssertEqual(file.tensorNames.count, 11)
        XCTAssertEqual(file.headerLength, 904)
        let ids = try file.intTensor("input_ids")
        XCTAssertEqual(ids.shape, [3, 16])
        XCTAssertEqual(Array(ids.values.prefix(9)), [101, 1996, 4937, 2938, 2006, 1996, 13523, 1012, 102])
        XCTAssertEqual(Array(ids.values.suffix(16)), [101, 1037, 102] + [Int](repeating: 0, count: 13))
        let last = try file.floatTensor("last_hidden_state", shape: [3, 16, 384])
        XCTAssertTrue(last.isBorrowed)
        XCTAssertEqual(last.buffer.first, 0.4872104525566101)
        XCTAssertEqual(last.buffer.last, -0.10996781289577484)
        XCTAssertEqual(last.buffer.reduce(0.0) { $0 + Double($1) }, 59.34461666261112, accuracy: 1e-7)
    }
}
