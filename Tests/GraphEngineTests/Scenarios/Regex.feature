Feature: Regex - the =~ operator (whole-string match, Java syntax, linear time)

  Background:
    Given an empty graph
    And having executed:
      """
      CREATE (:T {name: 'test_vector_search'}), (:T {name: 'test_graph'}), (:T {name: 'bench_vector'}), (:T {name: 'Test_Upper'})
      """

  Scenario: [1] Whole-string match, classes, alternation and flags
    When executing query:
      """
      MATCH (t:T)
      RETURN t.name AS name, t.name =~ 'test_.*' AS prefix, t.name =~ '(?i)test_[a-z]+' AS oneWord,
             t.name =~ '.*(vector|graph)' AS topic
      ORDER BY name
      """
    Then the result should be, in order:
      | name                 | prefix | oneWord | topic |
      | 'Test_Upper'         | false  | true    | false |
      | 'bench_vector'       | false  | false   | true  |
      | 'test_graph'         | true   | true    | true  |
      | 'test_vector_search' | true   | false   | false |
    And no side effects

  Scenario: [2] Null and non-string operands give null; a parameter can be the pattern
    Given parameters are:
      | p | '\\\\d{3}-\\\\d{4}' |
    When executing query:
      """
      RETURN null =~ 'a' AS a, 'a' =~ null AS b, 1 =~ '1' AS c, '555-1234' =~ $p AS d, '555-12345' =~ $p AS e
      """
    Then the result should be, in any order:
      | a    | b    | c    | d    | e     |
      | null | null | null | true | false |
    And no side effects

  Scenario: [3] A pattern that would make a backtracking engine run for hours answers at once
    When executing query:
      """
      WITH reduce(s = '', i IN range(1, 5000) | s + 'a') + '!' AS text
      RETURN text =~ '(a+)+$' AS evil, text =~ '(a|aa)+!' AS fine
      """
    Then the result should be, in any order:
      | evil  | fine |
      | false | true |
    And no side effects

  Scenario: [4] Invalid and unsupported patterns are errors
    When executing query:
      """
      RETURN 'aa' =~ '(a)\\1' AS backreference
      """
    Then an ArgumentError should be raised at runtime: InvalidArgumentValue

  Scenario: [5] Unbalanced groups are errors
    When executing query:
      """
      MATCH (t:T) WHERE t.name =~ '(test' RETURN t
      """
    Then an ArgumentError should be raised at runtime: InvalidArgumentValue
