import Testing
import LearnEngine
@testable import RouteEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The cell against an independent numpy implementation (Golden/fastgrnn_golden.py, float64): logits,
/// the distillation loss, and every parameter's gradient (numpy's central differences of its own forward).
@Suite struct FastGRNNGoldenTests {
    static let logits = [-1.2531798379308008, 0.7977686022285052, -0.38602987155035284, -1.3262677377226815, 0.9095174710789833, -0.5235265333092167]
    static let loss = 0.9780365617313906
    static let gradients: [String: [Double]] = [
        "W1": [-0.006486787329507138, 0.05679376791078994, -0.3697374484357141, 0.4565820003188392, -0.48417546355539187, 0.5896474931654794, -0.051777681753240046, 0.09233713849088332],
        "W2": [-0.15330584579587025, -0.22726872195288905, -0.27047184153472514, -0.006442158473340953, -0.023850537489433776, -0.038030858628967934],
        "U1": [-0.22996485771198394, 0.2782885027419191, -0.29445443017195316, -0.5092067194567562, 0.5921929981389518, -0.6067482261618018, -0.5164586414641015, 0.5986142899705449, -0.6115968739228705, -0.1933456210134743, 0.23380464031497183, -0.24724628938654902],
        "U2": [-0.016234198041420456, -0.018095135556617237, 0.0024537361031917726, -0.011342462358232552, 0.012853150765934629, 0.017082170844506805, 0.0019654808336433405, 0.005425889015864271, 0.03589546171411939, 0.044225465234415395, 0.000552829615418915, 0.019642359960769795],
        "b_z": [-0.03399424391981043, 0.09095377767609492, 0.09326190297809234, 0.028365818416364874],
        "b_h": [0.28556096698384437, 0.42134283217976076, 0.382997515091521, 0.17203688240652326],
        "zeta": [0.07334292995153646],
        "nu": [0.19976345927430472],
        "V": [-0.14576631596208145, -0.1390616732321881, 0.05392678831261932, -0.126716820425532, 0.27140026415128915, 0.34048951003118333, -0.0778732688888617, 0.2751856938987274, -0.12563394835574115, -0.201427837076551, 0.023946480687264682, -0.14846887363972883],
        "b_V": [-0.16091123211658953, 0.33980906277708556, -0.17889783049396257],
    ]

    /// The script's inputs: parameter k element i is 0.6 sin(1.3 k + 0.7 i + 0.1), in the serialised order.
    func goldenSetUp() throws -> (FastGRNNNetwork<Double>, [Double], [Int], [Double]) {
        let config = FastGRNNConfig(inputs: 3, classes: 3, hidden: 4, timeSteps: 5, wRank: 2, uRank: 3)
        let network = try FastGRNNNetwork<Double>(config: config, seed: 0)
        for (k, p) in network.parameters.enumerated() {
            p.value = (0..<p.count).map { 0.6 * sin(1.3 * Double(k) + 0.7 * Double($0) + 0.1) }
        }
        let x = (0..<(2 * config.sequenceLength)).map { sin(0.37 * Double($0) + 0.2) * 1.5 }
        let teacher = (0..<6).map { 2.0 * cos(0.9 * Double($0)) }
        return (network, x, [1, 2], teacher)
    }

    @Test func forwardLossAndGradientsMatchNumpy() throws {
        let (network, x, labels, teacher) = try goldenSetUp()
        #expect(network.parameters.map(\.name) == ["W1", "W2", "U1", "U2", "b_z", "b_h", "zeta", "nu", "V", "b_V"])
        let trace = network.forward(x, rows: 2)
        for (a, b) in zip(trace.logits, Self.logits) { #expect(abs(a - b) <= 1e-12, "logit \(a) vs numpy \(b)") }
        let (loss, dLogits) = ClassificationLoss.evaluate(logits: trace.logits, rows: 2, classes: 3, labels: labels,
                                                          teacherLogits: teacher, distillation: Distillation())
        #expect(abs(loss - Self.loss) <= 1e-12)
        Gradients.zero(network.parameters)
        network.backward(x, rows: 2, trace: trace, dLogits: dLogits)
        for p in network.parameters {
            let golden = try #require(Self.gradients[p.name])
            #expect(golden.count == p.count)
            // numpy's differences carry ~1e-10 of truncation and rounding error.
            for (a, b) in zip(p.gradient, golden) { #expect(abs(a - b) <= 1e-8, "\(p.name): \(a) vs numpy \(b)") }
        }
    }

    @Test func inferenceModelMatchesTheTrainingForm() throws {
        let (network, x, _, _) = try goldenSetUp()
        let model = FastGRNNModel(try Fixtures.floatCopy(network))
        for row in 0..<2 {
            let logits = try model.logits(x[row * 15 ..< (row + 1) * 15].map(Float.init))
            for k in 0..<3 { #expect(abs(Double(logits[k]) - Self.logits[row * 3 + k]) <= 1e-5) }
        }
    }
}
