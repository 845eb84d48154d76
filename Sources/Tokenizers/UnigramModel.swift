// PLACEHOLDER until helper `uni`'s UnigramModel.swift is merged: same interface, refuses to load.
struct UnigramModel: Sendable {
    init(vocabulary: [(token: String, score: Double)], unknownID: Int?, byteFallback: Bool, file: String) throws(TokenizerError) {
        throw TokenizerError(.unsupported, file: file, field: "model.type", message: "the Unigram model is not available in this build")
    }
    func tokenize(_ piece: ArraySlice<Unicode.Scalar>, into ids: inout [Int32]) {}
    func id(forToken: String) -> Int32? { nil }
    func token(forID: Int32) -> String? { nil }
}
