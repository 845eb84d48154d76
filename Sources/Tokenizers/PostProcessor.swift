/// One element of a post-processing template.
enum TemplatePiece: Sendable, Equatable {
    /// Special token ids with their type id.
    case special(ids: [Int32], typeID: Int32)
    /// The first sequence (`$A`) with its type id.
    case sequenceA(typeID: Int32)
    /// The second sequence (`$B`) with its type id.
    case sequenceB(typeID: Int32)
}

/// Adds special tokens around one or two sequences (TemplateProcessing / BertProcessing).
struct PostProcessor: Sendable, Equatable {
    var single: [TemplatePiece]
    var pair: [TemplatePiece]

    /// No special tokens; the second sequence gets type id 1.
    static let none = PostProcessor(single: [.sequenceA(typeID: 0)], pair: [.sequenceA(typeID: 0), .sequenceB(typeID: 1)])

    /// `[CLS] $A [SEP]` and `[CLS] $A [SEP] $B:1 [SEP]:1`.
    static func bert(cls: Int32, sep: Int32) -> PostProcessor {
        PostProcessor(
            single: [.special(ids: [cls], typeID: 0), .sequenceA(typeID: 0), .special(ids: [sep], typeID: 0)],
            pair: [.special(ids: [cls], typeID: 0), .sequenceA(typeID: 0), .special(ids: [sep], typeID: 0),
                   .sequenceB(typeID: 1), .special(ids: [sep], typeID: 1)])
    }

    static func specialCount(_ template: [TemplatePiece]) -> Int {
        template.reduce(0) { total, piece in
            if case .special(let ids, _) = piece { return total + ids.count }
            return total
        }
    }

    func apply(_ template: [TemplatePiece], a: [Int32], b: [Int32]) -> (ids: [Int32], types: [Int32]) {
        var ids: [Int32] = []
        var types: [Int32] = []
        ids.reserveCapacity(a.count + b.count + PostProcessor.specialCount(template))
        types.reserveCapacity(ids.capacity)
        for piece in template {
            switch piece {
            case .special(let specialIDs, let typeID):
                ids += specialIDs
                types += repeatElement(typeID, count: specialIDs.count)
            case .sequenceA(let typeID):
                ids += a
                types += repeatElement(typeID, count: a.count)
            case .sequenceB(let typeID):
                ids += b
                types += repeatElement(typeID, count: b.count)
            }
        }
        return (ids, types)
    }
}

extension PostProcessor {
    /// RobertaProcessing: `<s> $A </s>` and `<s> $A </s> </s> $B </s>`, every type id 0.
    static func roberta(cls: Int32, sep: Int32) -> PostProcessor {
        PostProcessor(
            single: [.special(ids: [cls], typeID: 0), .sequenceA(typeID: 0), .special(ids: [sep], typeID: 0)],
            pair: [.special(ids: [cls], typeID: 0), .sequenceA(typeID: 0), .special(ids: [sep], typeID: 0),
                   .special(ids: [sep], typeID: 0), .sequenceB(typeID: 0), .special(ids: [sep], typeID: 0)])
    }

    /// One more than the largest type id either template gives.
    var typeIDCount: Int {
        var largest: Int32 = 0
        for piece in single + pair {
            switch piece {
            case .special(_, let typeID), .sequenceA(let typeID), .sequenceB(let typeID): largest = max(largest, typeID)
            }
        }
        return Int(largest) + 1
    }
}
