Feature: ShortestPath - shortestPath and allShortestPaths in MATCH

  Background:
    Given an empty graph
    And having executed:
      """
      CREATE (a:S {n: 'a'}), (b:S {n: 'b'}), (c:S {n: 'c'}), (d:S {n: 'd'}), (e:S {n: 'e'}), (x:S {n: 'x'})
      CREATE (a)-[:R {w: 1}]->(b)-[:R {w: 2}]->(d), (a)-[:R {w: 3}]->(c)-[:R {w: 4}]->(d), (d)-[:R {w: 5}]->(e)
      """

  Scenario: [1] One shortest path between bound nodes
    When executing query:
      """
      MATCH (a:S {n: 'a'}), (e:S {n: 'e'})
      MATCH p = shortestPath((a)-[:R*]->(e))
      RETURN length(p) AS len, [n IN nodes(p) | n.n] AS names
      """
    Then the result should be, in any order:
      | len | names                |
      | 3   | ['a', 'b', 'd', 'e'] |
    And no side effects

  Scenario: [2] All shortest paths
    When executing query:
      """
      MATCH (a:S {n: 'a'}), (d:S {n: 'd'})
      MATCH p = allShortestPaths((a)-[:R*..5]->(d))
      RETURN [r IN relationships(p) | r.w] AS weights
      """
    Then the result should be, in any order:
      | weights |
      | [1, 2]  |
      | [3, 4]  |
    And no side effects

  Scenario: [3] Direction and the upper bound are respected
    When executing query:
      """
      MATCH (e:S {n: 'e'}), (a:S {n: 'a'})
      OPTIONAL MATCH p = shortestPath((e)-[:R*]->(a))
      OPTIONAL MATCH q = shortestPath((e)-[:R*..2]-(a))
      OPTIONAL MATCH u = shortestPath((e)-[:R*..3]-(a))
      RETURN p IS NULL AS noForward, q IS NULL AS tooShort, length(u) AS len
      """
    Then the result should be, in any order:
      | noForward | tooShort | len |
      | true      | true     | 3   |
    And no side effects

  Scenario: [4] An unbound end node gets one shortest path per reachable node
    When executing query:
      """
      MATCH p = shortestPath((a:S {n: 'a'})-[*]->(t:S))
      RETURN t.n AS t, length(p) AS len ORDER BY t
      """
    Then the result should be, in order:
      | t   | len |
      | 'b' | 1   |
      | 'c' | 1   |
      | 'd' | 2   |
      | 'e' | 3   |
    And no side effects

  Scenario: [5] Unreachable nodes give no row; the relationship variable is a list
    When executing query:
      """
      MATCH (a:S {n: 'a'}), (x:S {n: 'x'})
      OPTIONAL MATCH p = shortestPath((a)-[rs:R*]-(x))
      MATCH (a)-[r:R]->(:S {n: 'b'})
      MATCH shortestPath((a)-[path:R*]->(:S {n: 'b'}))
      RETURN p, path = [r] AS sameRelationship
      """
    Then the result should be, in any order:
      | p    | sameRelationship |
      | null | true             |
    And no side effects

  Scenario: [6] shortestPath is only for MATCH
    When executing query:
      """
      MATCH (a:S {n: 'a'}), (b:S {n: 'b'})
      CREATE shortestPath((a)-[:R]->(b))
      """
    Then a SyntaxError should be raised at compile time: InvalidClause

  Scenario: [7] shortestPath needs one relationship pattern
    When executing query:
      """
      MATCH p = shortestPath((a)-[:R]->(b)-[:R]->(c)) RETURN p
      """
    Then a SyntaxError should be raised at compile time: InvalidArgument
