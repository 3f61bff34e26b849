Feature: VectorProcedure - CALL db.index.vector.queryNodes over a vector index on nodes

  Background:
    Given an empty graph
    And having executed:
      """
      CREATE (a:Doc {t: 'a', v: [0.0, 0.0]}), (b:Doc {t: 'b', v: [1.0, 0.0]}), (c:Doc {t: 'c', v: [5.0, 5.0]}),
             (:Doc {t: 'no vector'}), (:Other {t: 'other', v: [0.0, 0.1]})
      CREATE (a)-[:CITES]->(c), (b)-[:CITES]->(c)
      """
    And having a vector index "docs" on :Doc(v) of dimension 2 with metric l2Squared

  Scenario: [1] Nearest nodes with their scores, best first
    When executing query:
      """
      CALL db.index.vector.queryNodes('docs', 2, [0.9, 0.0]) YIELD node, score
      RETURN node.t AS t, round(score, 2) AS score
      """
    Then the result should be, in order:
      | t   | score |
      | 'b' | -0.01 |
      | 'a' | -0.81 |
    And no side effects

  Scenario: [2] YIELD with WHERE, then a pattern from the hits
    When executing query:
      """
      CALL db.index.vector.queryNodes('docs', 3, [0.0, 0.0]) YIELD node AS d WHERE d.t <> 'c'
      MATCH (d)-[:CITES]->(cited)
      RETURN d.t AS t, cited.t AS cited ORDER BY t
      """
    Then the result should be, in order:
      | t   | cited |
      | 'a' | 'c'   |
      | 'b' | 'c'   |
    And no side effects

  Scenario: [3] Index changes follow the graph
    When executing query:
      """
      MATCH (c:Doc {t: 'c'}) SET c.v = [0.5, 0.0]
      WITH c
      CALL db.index.vector.queryNodes('docs', 1, [0.5, 0.0]) YIELD node
      RETURN node.t AS t
      """
    Then the result should be, in any order:
      | t   |
      | 'c' |
    And the side effects should be:
      | +properties | 1 |
      | -properties | 1 |

  Scenario: [4] An unknown index is an error
    When executing query:
      """
      CALL db.index.vector.queryNodes('missing', 1, [0.0, 0.0]) YIELD node RETURN node
      """
    Then a ProcedureError should be raised at runtime: ProcedureNotFound
