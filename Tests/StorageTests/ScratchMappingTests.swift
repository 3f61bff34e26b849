#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Storage

/// The unnamed, growable file mapping behind on-disk vectors.
@Suite struct ScratchMappingTests {
    /// Growth keeps every byte written before it (the mapping may move), the file never shows
    /// in the folder (it is unlinked at once), and its pages can leave memory and come back.
    @Test func growsKeepsContentAndLeavesNoFile() throws {
        let directory = temporaryDirectory()
        let mapping = try ScratchMapping(directory: directory, bytes: 10)
        #expect(mapping.capacity == MappedRegion.pageBytes)
        let first = mapping.base.bindMemory(to: UInt32.self, capacity: mapping.capacity / 4)
        for i in 0..<(mapping.capacity / 4) { first[i] = UInt32(i) &* 2_654_435_761 }
        var sizes: [Int] = []
        for step in 1...6 {
            try mapping.grow(toBytes: MappedRegion.pageBytes << step)
            sizes.append(mapping.capacity)
        }
        #expect(sizes == (1...6).map { MappedRegion.pageBytes << $0 })
        let words = mapping.base.bindMemory(to: UInt32.self, capacity: mapping.capacity / 4)
        #expect((0..<(MappedRegion.pageBytes / 4)).allSatisfy { words[$0] == UInt32($0) &* 2_654_435_761 })
        #expect(words[mapping.capacity / 4 - 1] == 0, "new room reads as zeros")
        try mapping.grow(toBytes: 100)      // smaller: nothing changes
        #expect(mapping.capacity == MappedRegion.pageBytes << 6)
        #expect(try AtomicFile.entries(directory).isEmpty, "the scratch file must not be visible in the folder")
        // Written out and dropped from memory, then read back from the file.
        mapping.evict()
        #expect(mapping.residentBytes() < mapping.capacity)
        mapping.willRead(offset: 8, count: 100)
        #expect((0..<(MappedRegion.pageBytes / 4)).allSatisfy { words[$0] == UInt32($0) &* 2_654_435_761 })
        #expect(mapping.residentBytes() >= MappedRegion.pageBytes)
    }

    /// A folder that does not exist is an error, not a crash.
    @Test func missingFolderThrows() {
        #expect(throws: StorageError.self) { try ScratchMapping(directory: "/nonexistent/ruvector-\(getpid())", bytes: 4096) }
    }
}
