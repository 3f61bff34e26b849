#if !RUVECTOR_LIBFUZZER
/// The command-line driver (a libFuzzer build has libFuzzer's `main` instead: see
/// `LibFuzzerEntry.swift`).
@main
enum FuzzMain {
    static func main() {
        FuzzCommand.main()
    }
}
#endif
