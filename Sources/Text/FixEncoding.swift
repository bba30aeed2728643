/// ftfy's `fix_encoding` (6.3.1): finds mojibake, text that was UTF-8 but
/// got decoded as a single-byte encoding (such as "cafÃ©"), and decodes it
/// again the right way. It only acts on text its badness heuristic flags,
/// so clean prompts pass through untouched.
///
/// Steps, repeated until nothing changes: for each single-byte encoding in
/// ftfy's order that could have produced the text, encode with it, put back
/// bytes that were likely mangled (0xA0 turned space, lossy '�' or '?'),
/// and decode as UTF-8 (or ftfy's "utf-8-variants" when 0xED or 0xC0
/// appear); the first that decodes wins. Failing that, runs of UTF-8-looking
/// mojibake inside other text are fixed one by one; then Latin-1 is read as
/// Windows-1252; then lone C1 controls are.
enum FixEncoding {
    static func fixEncoding(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var text = text
        while true {
            let previous = text
            text = oneStep(text)
            if text == previous { return text }
        }
    }

    private static func oneStep(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        if text.isEmpty || text.allSatisfy(\.isASCII) || !isBad(text) { return text }
        var possible: [String] = []
        for charmap in Charmap.all where charmap.couldHaveDecoded(text) {
            possible.append(charmap.name)
            var bytes = charmap.encode(text)
            if charmap.name != "macroman" && ByteRules.alteredUTF8.search(bytes) {
                bytes = ByteRules.restoreByteA0(bytes)
            }
            if charmap.name.hasPrefix("sloppy") {
                bytes = ByteRules.lossyUTF8.replaceAll(in: bytes, with: [0xEF, 0xBF, 0xBD])
            }
            let variants = bytes.contains(0xED) || bytes.contains(0xC0)
            if let fixed = UTF8Decoding.decode(bytes, variants: variants) { return fixed }
        }
        if UTF8Detector.firstMatch(in: text, from: 0) != nil {
            let fixed = decodeInconsistentUTF8(text)
            if fixed != text { return fixed }
        }
        // ftfy checks for "windows-1252" among the possible encodings, a name
        // its list never holds ("sloppy-windows-1252" is), so this always runs
        // when Latin-1 was possible: strict Windows-1252 refuses 5 bytes.
        if possible.contains("latin-1") {
            let undefined: Set<UInt32> = [0x81, 0x8D, 0x8F, 0x90, 0x9D]
            if !text.contains(where: { undefined.contains($0.value) }) {
                let fixed = FixText.fixC1Controls(text)
                if fixed != text { return fixed }
            }
        }
        if text.contains(where: { (0x80...0x9F).contains($0.value) }) {
            return FixText.fixC1Controls(text)
        }
        return text
    }

    /// Fixes each run that looks like UTF-8 mojibake on its own, where the
    /// run is not the whole text and is itself flagged as bad.
    private static func decodeInconsistentUTF8(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        var position = 0
        while let match = UTF8Detector.firstMatch(in: text, from: position) {
            out += text[position..<match.lowerBound]
            let run = Array(text[match])
            out += run.count < text.count && isBad(run) ? fixEncoding(run) : run
            position = match.upperBound
        }
        out += text[position...]
        return out
    }

    // MARK: - The badness heuristic

    /// `ftfy.badness.is_bad`: does any of BADNESS_RE's alternatives match?
    static func isBad(_ text: [Unicode.Scalar]) -> Bool {
        for start in text.indices {
            for rule in badnessRules where matches(rule[...], in: text, at: start) {
                return true
            }
        }
        return false
    }

    private static func matches(_ atoms: ArraySlice<Atom>, in text: [Unicode.Scalar], at position: Int) -> Bool {
        guard let atom = atoms.first else { return true }
        let rest = atoms.dropFirst()
        switch atom {
        case .start:
            return position == 0 && matches(rest, in: text, at: position)
        case .anyButNewline:
            return position < text.count && text[position] != "\n" && matches(rest, in: text, at: position + 1)
        case .scalar(let set, let optional):
            if position < text.count, set.contains(text[position]), matches(rest, in: text, at: position + 1) {
                return true
            }
            return optional && matches(rest, in: text, at: position)
        }
    }

    enum Atom {
        case scalar(ScalarSet, optional: Bool)
        case start
        case anyButNewline
    }

    /// A regex character class: code point ranges plus Python's `\s` and
    /// `\w` categories, possibly negated.
    struct ScalarSet {
        var ranges: [ClosedRange<UInt32>] = []
        var negated = false
        var space = false
        var word = false

        init(ranges text: Substring) {
            for part in text.split(separator: ",") {
                let bounds = part.split(separator: "-").compactMap { UInt32($0, radix: 16) }
                if let low = bounds.first { ranges.append(low...(bounds.last ?? low)) }
            }
        }

        /// Parses "[flags:ranges]" from the generated tables.
        init?(atom: Substring) {
            guard atom.first == "[", atom.last == "]", let colon = atom.firstIndex(of: ":") else { return nil }
            let flags = atom[atom.index(after: atom.startIndex)..<colon]
            self.init(ranges: atom[atom.index(after: colon)..<atom.index(before: atom.endIndex)])
            negated = flags.contains("!")
            space = flags.contains("s")
            word = flags.contains("w")
        }

        func contains(_ scalar: Unicode.Scalar) -> Bool {
            var found = ranges.contains { $0.contains(scalar.value) }
            if !found && space { found = PythonText.isSpace(scalar) }
            if !found && word { found = Self.isPythonWord(scalar) }
            return found != negated
        }

        /// Python's `\w` for str patterns: `isalnum()` or '_'.
        static func isPythonWord(_ scalar: Unicode.Scalar) -> Bool {
            if scalar == "_" { return true }
            switch scalar.properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
            default: return scalar.properties.numericType != nil
            }
        }
    }

    static let badnessRules: [[Atom]] = badnessRuleLines.split(separator: "\n").map { line in
        line.split(separator: " ").compactMap { token -> Atom? in
            if token == "^" { return .start }
            if token == "." { return .anyButNewline }
            let optional = token.hasSuffix("?")
            return ScalarSet(atom: optional ? token.dropLast() : token).map { .scalar($0, optional: optional) }
        }
    }
}

/// One of the single-byte encodings ftfy tries.
struct Charmap {
    let name: String
    let decoding: [Unicode.Scalar]
    let encoding: [UInt32: UInt8]
    /// What `possible_encoding` accepts: ASCII but 0x1A, plus whatever
    /// bytes 0x80...0xFF and 0x1A decode to.
    let accepted: Set<UInt32>

    static let all: [Charmap] = charmapEncodingLines.split(separator: "\n").compactMap { line in
        let parts = line.split(separator: "\t")
        guard parts.count == 2 else { return nil }
        let scalars = parts[1].split(separator: " ").compactMap { UInt32($0, radix: 16).flatMap(Unicode.Scalar.init) }
        guard scalars.count == 256 else { return nil }
        var encoding: [UInt32: UInt8] = [:]
        for (byte, scalar) in scalars.enumerated() { encoding[scalar.value] = UInt8(byte) }
        var accepted = Set((0..<0x80).filter { $0 != 0x1A }.map(UInt32.init))
        for byte in [0x1A] + Array(0x80...0xFF) { accepted.insert(scalars[byte].value) }
        return Charmap(name: String(parts[0]), decoding: scalars, encoding: encoding, accepted: accepted)
    }

    func couldHaveDecoded(_ text: [Unicode.Scalar]) -> Bool {
        text.allSatisfy { accepted.contains($0.value) }
    }

    func encode(_ text: [Unicode.Scalar]) -> [UInt8] {
        text.map { encoding[$0.value] ?? 0x3F }
    }
}

/// The byte patterns ftfy uses while re-encoding (ALTERED_UTF8_RE,
/// LOSSY_UTF8_RE), as alternatives of fixed-length byte-set sequences tried
/// in order at each position, as Python's `re` does.
struct ByteRules {
    let alternatives: [[Set<UInt8>]]

    init(_ alternatives: [[Set<UInt8>]]) { self.alternatives = alternatives }

    func match(in bytes: [UInt8], at position: Int) -> Int? {
        for alternative in alternatives where position + alternative.count <= bytes.count {
            if alternative.enumerated().allSatisfy({ $0.element.contains(bytes[position + $0.offset]) }) {
                return alternative.count
            }
        }
        return nil
    }

    func search(_ bytes: [UInt8]) -> Bool {
        bytes.indices.contains { match(in: bytes, at: $0) != nil }
    }

    /// `re.sub` with a function of the matched bytes.
    func replaceAll(in bytes: [UInt8], using replace: ([UInt8]) -> [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var position = 0
        while position < bytes.count {
            if let length = match(in: bytes, at: position) {
                out += replace(Array(bytes[position..<(position + length)]))
                position += length
            } else {
                out.append(bytes[position])
                position += 1
            }
        }
        return out
    }

    func replaceAll(in bytes: [UInt8], with replacement: [UInt8]) -> [UInt8] {
        replaceAll(in: bytes) { _ in replacement }
    }

    private static func set(_ ranges: ClosedRange<UInt8>...) -> Set<UInt8> {
        Set(ranges.flatMap { $0 })
    }

    private static let continuation = set(0x80...0xBF)
    private static let notA0orNEL = set(0x80...0x84, 0x86...0x9F, 0xA1...0xBF)
    private static let space: Set<UInt8> = [0x20]

    static let alteredUTF8 = ByteRules([
        [[0xC2, 0xC3, 0xC5, 0xCE, 0xD0, 0xD9], space],
        [[0xE2, 0xE3], space, notA0orNEL],
        [set(0xE0...0xE3), notA0orNEL, space],
        [[0xF0], space, continuation, continuation],
        [[0xF0], continuation, space, continuation],
        [[0xF0], continuation, continuation, space],
    ])

    static let lossyUTF8: ByteRules = {
        let sub: Set<UInt8> = [0x1A]
        let subOrQuestion: Set<UInt8> = [0x1A, 0x3F]
        let subOrContinuation = continuation.union(sub)
        let anyOfThree = continuation.union(subOrQuestion)
        return ByteRules([
            [set(0xC2...0xDF), sub],
            [set(0xC2...0xC3), [0x3F]],
            [[0xED], set(0xA0...0xAF), subOrQuestion, [0xED], set(0xB0...0xBF), anyOfThree],
            [[0xED], set(0xA0...0xAF), anyOfThree, [0xED], set(0xB0...0xBF), subOrQuestion],
            [set(0xE0...0xEF), subOrQuestion, subOrContinuation],
            [set(0xE0...0xEF), subOrContinuation, subOrQuestion],
            [set(0xF0...0xF4), subOrQuestion, subOrContinuation, subOrContinuation],
            [set(0xF0...0xF4), subOrContinuation, subOrQuestion, subOrContinuation],
            [set(0xF0...0xF4), subOrContinuation, subOrContinuation, subOrQuestion],
            [sub],
        ])
    }()

    /// ftfy's `restore_byte_a0`: "Ã " before most words was "à "; then any
    /// space inside an otherwise valid-looking UTF-8 sequence was byte 0xA0.
    static func restoreByteA0(_ bytes: [UInt8]) -> [UInt8] {
        var graveFixed: [UInt8] = []
        var position = 0
        while position < bytes.count {
            if bytes[position] == 0xC3, position + 1 < bytes.count, bytes[position + 1] == 0x20,
               !followedByExemptWord(bytes, at: position + 2) {
                graveFixed += [0xC3, 0xA0, 0x20]
                position += 2
            } else {
                graveFixed.append(bytes[position])
                position += 1
            }
        }
        return alteredUTF8.replaceAll(in: graveFixed) { match in match.map { $0 == 0x20 ? 0xA0 : $0 } }
    }

    /// The negative lookahead `(?! |quele|quela|quilo|s )`.
    private static func followedByExemptWord(_ bytes: [UInt8], at position: Int) -> Bool {
        for word in [" ", "quele", "quela", "quilo", "s "] {
            let pattern = Array(word.utf8)
            if position + pattern.count <= bytes.count, Array(bytes[position..<(position + pattern.count)]) == pattern {
                return true
            }
        }
        return false
    }
}

/// ftfy's UTF8_DETECTOR_RE:
/// `(?<![strict])([first2][cont]|[first3][cont]{2}|[first4][cont]{3})+`.
enum UTF8Detector {
    private static let sets: [String: FixEncoding.ScalarSet] = {
        var sets: [String: FixEncoding.ScalarSet] = [:]
        for line in utf8ClueLines.split(separator: "\n") {
            let parts = line.split(separator: "\t")
            if parts.count == 2 { sets[String(parts[0])] = FixEncoding.ScalarSet(ranges: parts[1]) }
        }
        return sets
    }()
    private static let leads: [(FixEncoding.ScalarSet, Int)] = [
        ("utf8_first_of_2", 1), ("utf8_first_of_3", 2), ("utf8_first_of_4", 3),
    ].compactMap { name, count in sets[name].map { ($0, count) } }
    private static let continuation = sets["utf8_continuation"]
    private static let strictContinuation = sets["utf8_continuation_strict"]

    /// The leftmost match at or after `start`.
    static func firstMatch(in text: [Unicode.Scalar], from start: Int) -> Range<Int>? {
        guard let continuation, let strictContinuation else { return nil }
        var position = start
        while position < text.count {
            if position > 0 && strictContinuation.contains(text[position - 1]) {
                position += 1
                continue
            }
            var end = position
            // Greedy repetition; each round takes the first alternative that fits.
            repetition: while end < text.count {
                for (lead, count) in leads where lead.contains(text[end])
                    && (1...count).allSatisfy({ end + $0 < text.count && continuation.contains(text[end + $0]) }) {
                    end += count + 1
                    continue repetition
                }
                break
            }
            if end > position { return position..<end }
            position += 1
        }
        return nil
    }
}

/// Python's strict UTF-8 decoder, optionally with ftfy's "utf-8-variants"
/// additions: CESU-8 surrogate pairs and Java's 0xC0 0x80 for NUL.
enum UTF8Decoding {
    static func decode(_ bytes: [UInt8], variants: Bool) -> [Unicode.Scalar]? {
        var out: [Unicode.Scalar] = []
        var index = 0
        func continuation(_ offset: Int, _ range: ClosedRange<UInt8> = 0x80...0xBF) -> UInt32? {
            guard index + offset < bytes.count, range.contains(bytes[index + offset]) else { return nil }
            return UInt32(bytes[index + offset] & 0x3F)
        }
        while index < bytes.count {
            let lead = bytes[index]
            if variants && lead == 0xC0 && continuation(1, 0x80...0x80) != nil {
                out.append("\u{0}")
                index += 2
                continue
            }
            if variants && lead == 0xED, index + 6 <= bytes.count,
               (0xA0...0xAF).contains(bytes[index + 1]), (0x80...0xBF).contains(bytes[index + 2]),
               bytes[index + 3] == 0xED, (0xB0...0xBF).contains(bytes[index + 4]), (0x80...0xBF).contains(bytes[index + 5]) {
                let value = (UInt32(bytes[index + 1] & 0x0F) << 16) + (UInt32(bytes[index + 2] & 0x3F) << 10)
                    + (UInt32(bytes[index + 4] & 0x0F) << 6) + UInt32(bytes[index + 5] & 0x3F) + 0x10000
                guard let scalar = Unicode.Scalar(value) else { return nil }
                out.append(scalar)
                index += 6
                continue
            }
            var value: UInt32
            var length: Int
            switch lead {
            case 0x00...0x7F:
                value = UInt32(lead)
                length = 1
            case 0xC2...0xDF:
                guard let c1 = continuation(1) else { return nil }
                value = UInt32(lead & 0x1F) << 6 | c1
                length = 2
            case 0xE0...0xEF:
                let second: ClosedRange<UInt8> = lead == 0xE0 ? 0xA0...0xBF : lead == 0xED ? 0x80...0x9F : 0x80...0xBF
                guard let c1 = continuation(1, second), let c2 = continuation(2) else { return nil }
                value = UInt32(lead & 0x0F) << 12 | c1 << 6 | c2
                length = 3
            case 0xF0...0xF4:
                let second: ClosedRange<UInt8> = lead == 0xF0 ? 0x90...0xBF : lead == 0xF4 ? 0x80...0x8F : 0x80...0xBF
                guard let c1 = continuation(1, second), let c2 = continuation(2), let c3 = continuation(3) else { return nil }
                value = UInt32(lead & 0x07) << 18 | c1 << 12 | c2 << 6 | c3
                length = 4
            default:
                return nil
            }
            guard let scalar = Unicode.Scalar(value) else { return nil }
            out.append(scalar)
            index += length
        }
        return out
    }
}
