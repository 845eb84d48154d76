// libFuzzer target: the safetensors header parser and tensor reads (Sources/SafeTensors).
//
// Built by Scripts/fuzz in one module with Sources/SafeTensors/*.swift, so internal API is visible.
// Every input must either parse — and then every tensor lies inside the buffer and can be read —
// or throw a SafeTensorsError naming the file. Anything else (trap, ASan report, hang) is a finding.

@_cdecl("LLVMFuzzerTestOneInput")
public func safeTensorsFuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    let file: SafeTensorsFile
    do {
        file = try SafeTensorsFile(bytes: bytes, name: "<fuzz>")
    } catch {
        precondition(error.file == "<fuzz>", "error does not name the file: \(error)")
        _ = error.description
        return 0
    }
    for name in file.tensorNames {
        guard let info = file.info(name) else { preconditionFailure("listed tensor \(name) has no info") }
        let range = info.byteRange
        precondition(range.lowerBound >= 0 && range.upperBound <= file.dataSize, "\(name) outside the data section")
        precondition(file.dataStart + range.upperBound <= bytes.count, "\(name) past the end of the buffer")
        precondition(range.count == info.elementCount * info.dtype.byteSize, "\(name) byte count mismatch")
        do {
            if info.dtype.isConvertibleToFloat {
                let tensor = try file.floatTensor(name, shape: info.shape)
                precondition(tensor.count == info.elementCount)
                var sum: Float = 0
                for value in tensor.buffer { sum += value }
                _ = sum
            } else if info.dtype.isInteger {
                let values = try file.intTensor(name).values
                precondition(values.count == info.elementCount)
            }
            // A wrong expected shape must be a typed error, not a crash.
            _ = try file.floatTensor(name, shape: info.shape + [1])
        } catch {
            precondition(error.file == "<fuzz>", "error does not name the file: \(error)")
        }
    }
    return 0
}
