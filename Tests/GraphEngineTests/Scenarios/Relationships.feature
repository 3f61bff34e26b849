Feature: Relationships - variable-length relationships bound before the MATCH, and relationships deleted by the query

  Scenario: [1] A variable-length relationship bound to a list of relationships follows exactly that list
    Given an empty graph
    And having executed:
      """
      CREATE (a:A {n: 1})-[:Y]->(b:B {n: 2})-[:Y]->(c:C {n: 3}), (a)-[:Y]->(c)
      """
    When executing query:
      """
      MATCH (:A)-[r1]->(:B)-[r2]->(:C)
      WITH [r1, r2] AS rs
      MATCH (first)-[rs*]->(second)
      RETURN first.n AS first, second.n AS second, size(rs) AS hops
      """
    Then the result should be, in any order:
      | first | second | hops |
      | 1     | 3      | 2    |
    And no side effects

  Scenario: [2] A variable-length relationship bound in an earlier MATCH matches the same paths, longer ones included
    Given an empty graph
    And having executed:
      """
      CREATE (a:A {n: 1})-[:Y]->(b:B {n: 2})-[:Y]->(c:C {n: 3})
      """
    When executing query:
      """
      MATCH (a)-[r*]->(b)
      MATCH (x)-[r*]->(y)
      RETURN a.n AS a, b.n AS b, x.n AS x, y.n AS y
      """
    Then the result should be, in any order:
      | a | b | x | y |
      | 1 | 2 | 1 | 2 |
      | 1 | 3 | 1 | 3 |
      | 2 | 3 | 2 | 3 |
    And no side effects

  Scenario: [3] A variable-length relationship bound to a number is refused before anything runs
    Given an empty graph
    When executing query:
      """
      WITH 1 AS r
      MATCH (x)-[r*]->(y)
      RETURN x
      """
    Then a SyntaxError should be raised at compile time: VariableTypeConflict

  Scenario: [4] type() of relationships deleted earlier in the query, directly or with their node
    Given an empty graph
    And having executed:
      """
      CREATE (a:A)-[:T]->(:B), (a)-[:U]->(:C)
      """
    When executing query:
      """
      MATCH (a:A)-[r]->()
      DETACH DELETE a
      RETURN type(r) AS t
      """
    Then the result should be, in any order:
      | t   |
      | 'T' |
      | 'U' |
    And the side effects should be:
      | -nodes         | 1 |
      | -relationships | 2 |
      | -labels        | 1 |

  Scenario: [5] shortestPath does not take a relationship list bound before: it searches for its own
    Given an empty graph
    When executing query:
      """
      MATCH (:A)-[r1]->(:B)-[r2]->(:C)
      WITH [r1, r2] AS rs
      MATCH p = shortestPath((a)-[rs*]->(b))
      RETURN p
      """
    Then a SyntaxError should be raised at compile time: VariableAlreadyBound
