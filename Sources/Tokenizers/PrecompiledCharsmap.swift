// PLACEHOLDER until helper `uni`'s PrecompiledCharsmap.swift is merged: same interface, refuses to load.
struct PrecompiledCharsmap: Sendable {
    init(base64: String, file: String, field: String) throws(TokenizerError) {
        throw TokenizerError(.unsupported, file: file, field: field, message: "the Precompiled normalizer is not available in this build")
    }
    func normalize(_ input: [Unicode.Scalar]) -> [Unicode.Scalar] { input }
}
