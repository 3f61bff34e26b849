import Access
import Testing
import Wire
@testable import Services

@Suite("every RPC has an access rule")
struct ServerAccessRulesTests {
    @Test("each method of our protos and the standard services has a rule; per-collection methods name their collections")
    func everyMethodHasARule() {
        let rules = ServerAccessRules.rules(publicReflection: false)
        // Interop-testing services the server never registers (UnimplementedCall is meant to
        // be UNIMPLEMENTED): an unregistered method is answered before any access check.
        let neverServed = WireMethod.all.map(\.path).filter {
            $0.hasPrefix("/grpc.testing.") && (!$0.hasPrefix("/grpc.testing.TestService/") || $0.hasSuffix("/UnimplementedCall"))
        }
        #expect(neverServed.count == 9)
        for method in WireMethod.all where !neverServed.contains(method.path) {
            guard let rule = rules[method.path] else {
                Issue.record("\(method.path) has no access rule: add it to ServerAccessRules (and docs/security.md)")
                continue
            }
            // A caller holding single collections is checked message by message: the request
            // type must say which collections it touches.
            if case .requires(_, perCollection: true) = rule {
                #expect(method.requestType is any NamesCollections.Type, "\(method.path): \(method.requestType) does not name its collections")
            }
        }
        // No rule for a method that does not exist (a typo would leave the real one uncovered).
        let known = Set(WireMethod.all.map(\.path)).subtracting(neverServed)
        for path in rules.keys { #expect(known.contains(path), "rule for unknown method \(path)") }
        #expect(rules["/grpc.health.v1.Health/Check"] == .open)
        #expect(rules["/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"] == .requires(.read, perCollection: false))
        #expect(ServerAccessRules.rules(publicReflection: true)["/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"] == .open)
        #expect(rules["/ruvector.v1.RaftService/Send"] == .nodesOnly)
    }
}
