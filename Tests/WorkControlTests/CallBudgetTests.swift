import Testing
@testable import WorkControl

@Suite struct CallBudgetTests {
    @Test func chargesWithinTheCallLimitAndRefusesPastIt() throws {
        let server = MemoryBudget(limitBytes: 1 << 30)
        let call = CallBudget(limitBytes: 10 << 20, server: server, work: "the query")
        try call.charge(4 << 20)
        try call.charge(6 << 20)
        #expect(call.chargedBytes == 10 << 20)
        let error = #expect(throws: WorkLimitError.self) { try call.charge(1) }
        #expect(error?.kind == .callMemory)
        #expect(error?.message.contains("the query needs more than 10 MiB") == true)
        // A refused charge charges nothing.
        #expect(call.chargedBytes == 10 << 20)
        call.refund(10 << 20)
        try call.charge(1)
    }

    @Test func serverGrantsAreSharedAndReturned() throws {
        let server = MemoryBudget(limitBytes: 8 << 20)
        let a = CallBudget(limitBytes: 1 << 30, server: server)
        let b = CallBudget(limitBytes: 1 << 30, server: server)
        try a.charge(5 << 20)
        #expect(server.reservedBytes == 5 << 20)
        let error = #expect(throws: WorkLimitError.self) { try b.charge(4 << 20) }
        #expect(error?.kind == .serverMemory)
        #expect(server.refusals == 1)
        try b.charge(3 << 20)
        a.close()
        #expect(server.reservedBytes == 3 << 20)
        try b.charge(4 << 20)
        b.close()
        #expect(server.reservedBytes == 0)
        #expect(server.peakReservedBytes == 8 << 20)
    }

    @Test func smallChargesTakeWholeGrantsAndRefundsGiveSpareOnesBack() throws {
        let server = MemoryBudget(limitBytes: 1 << 30)
        let call = CallBudget(limitBytes: 1 << 30, server: server)
        for _ in 0..<1000 { try call.charge(100) }
        #expect(call.chargedBytes == 100_000)
        #expect(server.reservedBytes == CallBudget.grantBytes)
        try call.charge(10 << 20)
        #expect(server.reservedBytes >= call.chargedBytes)
        call.refund(10 << 20)
        // One grant of slack stays with the call; the rest went back.
        #expect(server.reservedBytes <= 2 * CallBudget.grantBytes)
    }

    @Test func aReleasedBudgetReturnsItsGrants() throws {
        let server = MemoryBudget(limitBytes: 1 << 30)
        do {
            let call = CallBudget(limitBytes: 1 << 30, server: server)
            try call.charge(3 << 20)
            #expect(server.reservedBytes == 3 << 20)
        }
        #expect(server.reservedBytes == 0)
    }

    @Test func aClosedBudgetStopsTheWork() throws {
        let call = CallBudget(limitBytes: 1 << 20, server: .unlimited())
        call.close()
        let error = #expect(throws: WorkLimitError.self) { try call.charge(10) }
        #expect(error?.kind == .stopped(.cancelled))
    }

    @Test func theBaselineCountsAgainstTheServerLimit() throws {
        let server = MemoryBudget(limitBytes: 10 << 20)
        server.setBaseline(bytes: 8 << 20)
        let call = CallBudget(limitBytes: 1 << 30, server: server)
        try call.charge(2 << 20)
        #expect(throws: WorkLimitError.self) { try call.charge(1 << 20) }
        server.setBaseline(bytes: 0)
        try call.charge(1 << 20)
    }

    @Test func concurrentChargesNeverPassTheLimit() async throws {
        let server = MemoryBudget(limitBytes: 64 << 20)
        let call = CallBudget(limitBytes: 1 << 30, server: server)
        let accepted = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var bytes = 0
                    for _ in 0..<1000 {
                        do { try call.charge(16 << 10); bytes += 16 << 10 } catch { break }
                    }
                    return bytes
                }
            }
            return await group.reduce(0, +)
        }
        #expect(accepted == call.chargedBytes)
        #expect(accepted <= 64 << 20)
        #expect(server.reservedBytes <= 64 << 20)
    }

    @Test(arguments: [(0, "0 bytes"), (512, "512 bytes"), (1024, "1 KiB"), (1536, "1.5 KiB"),
                      (256 << 20, "256 MiB"), (3 << 30, "3 GiB")])
    func bytesAreFormattedForMessages(bytes: Int, text: String) {
        #expect(formatBytes(bytes) == text)
    }
}

@Suite struct CancellationSignalTests {
    @Test func theFirstReasonIsKept() {
        let signal = CancellationSignal()
        #expect(!signal.isCancelled)
        #expect(throws: Never.self) { try signal.check() }
        signal.cancel(.deadlineExceeded)
        signal.cancel(.cancelled)
        #expect(signal.isCancelled)
        #expect(signal.reason == .deadlineExceeded)
        let error = #expect(throws: WorkLimitError.self) { try signal.check() }
        #expect(error?.kind == .stopped(.deadlineExceeded))
    }

    @Test func theSharedNeverSignalCannotBeRaised() {
        CancellationSignal.never.cancel()
        #expect(!CancellationSignal.never.isCancelled)
    }

    @Test func anotherThreadSeesTheCancel() async {
        let signal = CancellationSignal()
        async let spun: Int = {
            var spins = 0
            while !signal.isCancelled { spins += 1; await Task.yield() }
            return spins
        }()
        try? await Task.sleep(for: .milliseconds(10))
        signal.cancel()
        _ = await spun
        #expect(signal.isCancelled)
    }
}
