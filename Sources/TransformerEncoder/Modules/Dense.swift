import Foundation
import SafeTensors

/// sentence-transformers' `Dense` module after pooling: `y = activation(x·Wᵀ + b)` on every sentence
/// embedding, from a module folder (`2_Dense/`) holding `config.json` (`in_features`, `out_features`,
/// `bias`, `activation_function`) and `model.safetensors` (`linear.weight`: (out, in), `linear.bias`: (out)).
public struct Dense: Sendable {
    /// The activation after the linear map, named as `activation_function` names it.
    public enum Activation: String, Sendable, CaseIterable {
        /// `torch.nn.modules.linear.Identity`
        case identity = "torch.nn.modules.linear.Identity"
        /// `torch.nn.modules.activation.Tanh`: sentence-transformers' default when the field is absent.
        case tanh = "torch.nn.modules.activation.Tanh"
        /// `torch.nn.modules.activation.ReLU`
        case relu = "torch.nn.modules.activation.ReLU"
        /// `torch.nn.modules.activation.Sigmoid`
        case sigmoid = "torch.nn.modules.activation.Sigmoid"
        /// `torch.nn.modules.activation.GELU` (exact, erf-based)
        case gelu = "torch.nn.modules.activation.GELU"

        func apply(_ x: Float) -> Float {
            switch self {
            case .identity: return x
            case .tanh: return Foundation.tanh(x)
            case .relu: return Swift.max(x, 0)
            case .sigmoid: return 1 / (1 + Foundation.exp(-x))
            case .gelu: return 0.5 * x * (1 + Foundation.erf(x / 2.0.squareRoot().float))
            }
        }
    }

    /// Width of the embeddings it takes.
    public let inFeatures: Int
    /// Width of the embeddings it returns.
    public let outFeatures: Int
    /// The activation applied after the linear map.
    public let activation: Activation
    /// Wᵀ: (inFeatures, outFeatures), so the product is `X·Wᵀ` with both operands as stored.
    let weightTransposed: Matrix
    /// (outFeatures), or `nil` when `bias` is false.
    let bias: [Float]?

    /// Loads a Dense module folder. Fails naming the file and field for anything sentence-transformers
    /// would compute differently: an unknown activation, `use_residual`, a module reading or writing
    /// another feature than `sentence_embedding`, or weights of the wrong shape.
    /// - Parameters:
    ///   - folder: the module folder (`2_Dense`).
    ///   - inputWidth: the width of the embeddings the module before it gives; `in_features` must match.
    public init(folder: URL, inputWidth: Int? = nil) throws(EncoderError) {
        let configURL = folder.appendingPathComponent("config.json")
        let path = configURL.path
        let fields = JSONFields(object: try JSONFile.object(at: configURL), path: path)
        inFeatures = try fields.int("in_features", range: 1...(1 << 20))
        outFeatures = try fields.int("out_features", range: 1...(1 << 20))
        if let inputWidth, inputWidth != inFeatures {
            throw .invalidField(
                path: path, field: "in_features", reason: "is \(inFeatures), but the module before it gives \(inputWidth) features")
        }
        let hasBias = try fields.bool("bias", default: true)
        let name = try fields.string("activation_function", default: Activation.tanh.rawValue)
        guard let activation = Activation(rawValue: name) else {
            throw .unsupported(path: path, field: "activation_function", value: name)
        }
        self.activation = activation
        if try fields.bool("use_residual", default: false) {
            throw .unsupported(path: path, field: "use_residual", value: "true")
        }
        for field in ["module_input_name", "module_output_name"] {
            let value = try fields.string(field, default: "sentence_embedding")
            guard value == "sentence_embedding" else { throw .unsupported(path: path, field: field, value: value) }
        }

        let weightsURL = folder.appendingPathComponent("model.safetensors")
        try ModelFolder.requireSafeTensors(weightsURL)
        let file: SafeTensorsFile
        do {
            file = try SafeTensorsFile(contentsOf: weightsURL)
            let weight = try file.floatTensor("linear.weight", shape: [outFeatures, inFeatures])
            // (out, in) → Wᵀ (in, out)
            var transposed = [Float](repeating: 0, count: inFeatures * outFeatures)
            for o in 0..<outFeatures {
                for i in 0..<inFeatures { transposed[i * outFeatures + o] = weight.pointer[o * inFeatures + i] }
            }
            weightTransposed = Matrix(unchecked: transposed, rows: inFeatures, columns: outFeatures)
            bias = hasBias ? try file.floatTensor("linear.bias", shape: [outFeatures]).toArray() : nil
        } catch {
            throw .checkpoint(error)
        }
        for (name, values) in [("linear.weight", weightTransposed.values), ("linear.bias", bias ?? [])] {
            if let index = values.firstIndex(where: { !$0.isFinite }) {
                throw .invalidField(
                    path: weightsURL.path, field: name,
                    reason: "holds a non-finite value (\(values[index])); the weights are damaged")
            }
        }
        if !hasBias, file.tensorNames.contains("linear.bias") {
            throw .invalidField(path: path, field: "bias", reason: "is false, but \(weightsURL.path) holds linear.bias")
        }
    }

    /// x: (rows, inFeatures) → (rows, outFeatures).
    func forward(_ x: Matrix, options: ComputeOptions) -> Matrix {
        // x.columns == inFeatures: the pipeline checks each module's in_features against the width before it.
        let (m, n, k) = (x.rows, outFeatures, inFeatures)
        var y = [Float](repeating: 0, count: m * n)   // (m, n)
        let threads = m * k * n < Parallel.minimumParallelWork ? 1 : options.threads
        let backend = options.backend
        x.values.withUnsafeBufferPointer { a in
            weightTransposed.values.withUnsafeBufferPointer { b in
                y.withUnsafeMutableBufferPointer { c in
                    guard let a = a.baseAddress, let c = c.baseAddress else { return }
                    Parallel.forEachChunk(count: m, threads: threads) { rows in
                        backend.gemm(
                            transposeA: .none, transposeB: .none, m: rows.count, n: n, k: k,
                            alpha: 1, a: a + rows.lowerBound * k, lda: k,
                            b: b.baseAddress, ldb: n,
                            beta: 0, c: c + rows.lowerBound * n, ldc: n)
                        // Bias and activation on the rows just computed, while they are in cache.
                        for r in rows {
                            let row = c + r * n
                            if let bias { for j in 0..<n { row[j] += bias[j] } }
                            if activation != .identity { for j in 0..<n { row[j] = activation.apply(row[j]) } }
                        }
                    }
                }
            }
        }
        return Matrix(unchecked: y, rows: m, columns: n)
    }
}

private extension Double {
    var float: Float { Float(self) }
}
