// What `learn-bench --train-examples FILE --dump DIR [--batch-order FILE]` writes for the equivalence
// check with the PyTorch reference (Benchmarks/LearnBench/equivalence.py): every parameter as .npy
// (little-endian Float32, row-major, the engine's names) before training (DIR/init); before step
// N of `--dump-step N` (DIR/before), its gradient (DIR/grad: as the optimiser used it, averaged
// over the batch, after EWC and clipping) and after it (DIR/after); after each epoch (DIR/epochN);
// and step N's loss and learning rate (DIR/step.txt).
import LearnEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes .npy files of a model's parameters.
struct ParameterDump {
    let directory: String

    /// Writes each parameter's values (or gradients, when `gradients`) to `directory/subdirectory/<name>.npy`.
    func write(_ parameters: [Parameter<Float>], to subdirectory: String, gradients: Bool = false) {
        let folder = directory + "/" + subdirectory
        mkdir(directory, 0o755)
        mkdir(folder, 0o755)
        for p in parameters { Self.writeNPY(gradients ? p.gradient : p.value, shape: p.shape, path: folder + "/" + p.name + ".npy") }
    }

    /// Writes `text` to `directory/name`.
    func write(text: String, to name: String) {
        mkdir(directory, 0o755)
        guard let handle = fopen(directory + "/" + name, "wb") else { fail("cannot write \(directory)/\(name)") }
        defer { fclose(handle) }
        fputs(text, handle)
    }

    /// NPY format 1.0: magic, version, u16 header length, a Python dict literal padded with spaces to a
    /// multiple of 64 bytes (newline last), then the raw values.
    static func writeNPY(_ values: [Float], shape: [Int], path: String) {
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = Array("{'descr': '<f4', 'fortran_order': False, 'shape': \(dims), }".utf8)
        let preamble = 10
        while (preamble + header.count + 1) % 64 != 0 { header.append(UInt8(ascii: " ")) }
        header.append(UInt8(ascii: "\n"))
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)] + header
        bytes.reserveCapacity(bytes.count + values.count * 4)
        for v in values {
            let b = v.bitPattern
            bytes += [UInt8(b & 0xFF), UInt8((b >> 8) & 0xFF), UInt8((b >> 16) & 0xFF), UInt8(b >> 24)]
        }
        guard let handle = fopen(path, "wb") else { fail("cannot write \(path)") }
        defer { fclose(handle) }
        guard fwrite(bytes, 1, bytes.count, handle) == bytes.count else { fail("short write to \(path)") }
    }
}

/// Reads a batch-order file: one batch per line, "epoch index index ...", indices into the training examples.
func readBatchOrder(path: String) -> [Int: [[Int]]] {
    let text = readWholeFile(path)
    var order = [Int: [[Int]]]()
    for line in String(decoding: text, as: UTF8.self).split(separator: "\n") {
        let fields = line.split(separator: " ").compactMap { Int($0) }
        guard fields.count >= 2 else { fail("\(path): bad line '\(line)'") }
        order[fields[0], default: []].append(Array(fields.dropFirst()))
    }
    return order
}
