import Foundation
import Hummingbird

/// Builds a JSON document straight into bytes: embeddings are written without an intermediate
/// `[String: Any]` or `Encodable` tree (a 32×384 response is 12 288 numbers).
///
/// Floats are written with Swift's shortest round-trip representation, so a client parsing them as
/// float32 gets the exact values the encoder computed.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []
    /// Per open container: whether it already has an element (a comma is due before the next).
    private var hasElement: [Bool] = []

    init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    private mutating func separate() {
        if let last = hasElement.last {
            if last { bytes.append(UInt8(ascii: ",")) }
            hasElement[hasElement.count - 1] = true
        }
    }

    mutating func beginObject() { beginValue(); bytes.append(UInt8(ascii: "{")); hasElement.append(false) }
    mutating func endObject() { hasElement.removeLast(); bytes.append(UInt8(ascii: "}")) }
    mutating func beginArray() { beginValue(); bytes.append(UInt8(ascii: "[")); hasElement.append(false) }
    mutating func endArray() { hasElement.removeLast(); bytes.append(UInt8(ascii: "]")) }

    /// An object key; the value written next belongs to it (no comma between them).
    mutating func key(_ name: String) {
        separate()
        appendQuoted(name)
        bytes.append(UInt8(ascii: ":"))
        pendingValueAfterKey = true
    }
    /// A key was just written: the next value follows it without a comma.
    private var pendingValueAfterKey = false

    private mutating func beginValue() {
        if pendingValueAfterKey {
            pendingValueAfterKey = false
        } else {
            separate()
        }
    }

    mutating func string(_ value: String) { beginValue(); appendQuoted(value) }
    mutating func int(_ value: Int) { beginValue(); bytes.append(contentsOf: String(value).utf8) }
    mutating func bool(_ value: Bool) { beginValue(); bytes.append(contentsOf: (value ? "true" : "false").utf8) }
    mutating func null() { beginValue(); bytes.append(contentsOf: "null".utf8) }
    /// A finite float (callers check finiteness: JSON has no NaN or infinity).
    mutating func float(_ value: Float) { beginValue(); bytes.append(contentsOf: value.description.utf8) }

    /// An array of floats.
    mutating func floats<C: Collection>(_ values: C) where C.Element == Float {
        beginValue()
        bytes.append(UInt8(ascii: "["))
        var first = true
        for value in values {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            bytes.append(contentsOf: value.description.utf8)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    private mutating func appendQuoted(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": bytes.append(contentsOf: "\\\"".utf8)
            case "\\": bytes.append(contentsOf: "\\\\".utf8)
            case "\n": bytes.append(contentsOf: "\\n".utf8)
            case "\r": bytes.append(contentsOf: "\\r".utf8)
            case "\t": bytes.append(contentsOf: "\\t".utf8)
            case _ where scalar.value < 0x20:
                bytes.append(contentsOf: String(format: "\\u%04x", scalar.value).utf8)
            default:
                bytes.append(contentsOf: String(scalar).utf8)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// The document as an HTTP response with `Content-Type: application/json`.
    func response(status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
