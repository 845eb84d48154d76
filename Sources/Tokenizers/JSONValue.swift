import Foundation

/// A parsed JSON value (used to read `tokenizer.json` and `tokenizer_config.json`).
enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses JSON data with Foundation's `JSONSerialization`.
    static func parse(_ data: Data) throws -> JSONValue {
        let object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        return convert(object)
    }

    private static func convert(_ any: Any) -> JSONValue {
        switch any {
        case is NSNull:
            return .null
        case let string as String:
            return .string(string)
        case let dictionary as [String: Any]:
            var result: [String: JSONValue] = [:]
            result.reserveCapacity(dictionary.count)
            for (key, value) in dictionary { result[key] = convert(value) }
            return .object(result)
        case let array as [Any]:
            return .array(array.map(convert))
        case let number as NSNumber:
            if isBoolean(number) { return .bool(number.boolValue) }
            return .number(number.doubleValue)
        case let bool as Bool:
            return .bool(bool)
        case let int as Int:
            return .number(Double(int))
        case let double as Double:
            return .number(double)
        default:
            return .null
        }
    }

    private static func isBoolean(_ number: NSNumber) -> Bool {
        // JSONSerialization returns booleans as CFBoolean, whose ObjC type encoding is "c" (char);
        // it never produces char-typed numbers otherwise.
        String(cString: number.objCType) == "c"
    }

    /// A short name of the value's JSON type, for error messages.
    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    subscript(key: String) -> JSONValue? {
        if case .object(let dictionary) = self { return dictionary[key] }
        return nil
    }
}
