#if RUVECTOR_LIBFUZZER
#if canImport(Glibc)
import Glibc
#endif
import VectorEngine

// The same targets under libFuzzer (coverage-guided), built by `scripts/fuzz.sh --libfuzzer`
// with `-sanitize=fuzzer -D RUVECTOR_LIBFUZZER`: libFuzzer owns `main`, the corpus and the
// crash files; the target is named by RUVECTOR_FUZZ_TARGET. The target's structure-aware
// mutations are offered to libFuzzer beside its own (LLVMFuzzerCustomMutator).

nonisolated(unsafe) private var libFuzzerTarget: (any FuzzTarget)?
nonisolated(unsafe) private var libFuzzerSeeds: [[UInt8]] = []

/// Makes the target; writes its seed inputs into RUVECTOR_FUZZ_SEEDS (a directory libFuzzer
/// is then given as a corpus) when that is set.
@_cdecl("LLVMFuzzerInitialize")
public func libFuzzerInitialize(_ argc: UnsafeMutablePointer<Int32>?,
                                _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> Int32 {
    let name = Environment.value("RUVECTOR_FUZZ_TARGET") ?? ""
    do {
        let scratch = try FuzzFiles.makeTemporaryDirectory(in: Environment.value("RUVECTOR_FUZZ_WORK_DIR") ?? "/dev/shm",
                                                           prefix: "ruvector-libfuzzer-\(name)")
        guard let target = try FuzzTargets.make(name, workDirectory: scratch) else {
            Console.print("RUVECTOR_FUZZ_TARGET must be one of \(FuzzTargets.names.joined(separator: ", ")); got '\(name)'")
            exit(2)
        }
        libFuzzerTarget = target
        libFuzzerSeeds = try target.seedCorpus()
        if let directory = Environment.value("RUVECTOR_FUZZ_SEEDS") {
            try FuzzFiles.createDirectories(directory)
            for (index, seed) in libFuzzerSeeds.enumerated() { try FuzzFiles.write(seed, to: "\(directory)/seed-\(index)") }
        }
    } catch {
        Console.print("ruvector-fuzz: cannot set up target '\(name)': \(error)")
        exit(2)
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func libFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let target = libFuzzerTarget else { return 0 }
    let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    do {
        _ = try target.run(input)
    } catch let finding as FuzzFinding {
        // libFuzzer saves the input of a crash; a broken invariant becomes one.
        Console.print("==ruvector-fuzz== finding: \(finding.description)")
        abort()
    } catch {}
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
private func libFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                                _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                                _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

/// The executable's entry point: SwiftPM links `main` to `<module>_main`, so libFuzzer's own
/// `main` is not used; its driver is started from here instead.
@_cdecl("RuVectorFuzz_main")
public func libFuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return libFuzzerRunDriver(&count, &arguments) { data, size in libFuzzerTestOneInput(data, size) }
}

@_silgen_name("LLVMFuzzerMutate")
private func libFuzzerMutate(_ data: UnsafeMutablePointer<UInt8>, _ size: Int, _ maxSize: Int) -> Int

/// Half the time the target's structure-aware mutation, else libFuzzer's own.
@_cdecl("LLVMFuzzerCustomMutator")
public func libFuzzerCustomMutator(_ data: UnsafeMutablePointer<UInt8>?, _ size: Int, _ maxSize: Int, _ seed: UInt32) -> Int {
    guard let data else { return 0 }
    var random = SeededGenerator(seed: UInt64(seed))
    if let target = libFuzzerTarget, random.below(2) == 0 {
        var input = Array(UnsafeBufferPointer(start: data, count: size))
        if target.mutate(&input, random: &random, corpus: libFuzzerSeeds), input.count <= maxSize {
            input.withUnsafeBufferPointer { if let base = $0.baseAddress { data.update(from: base, count: input.count) } }
            return input.count
        }
    }
    return libFuzzerMutate(data, size, maxSize)
}
#endif
