package dev.netboot.replication;

import dev.netboot.replication.GenerationComparison.Rule;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static dev.netboot.replication.SyncDecision.*;
import static org.assertj.core.api.Assertions.assertThat;

/** One case per row of the table in docs/replication.md, each checked from both sides. */
class GenerationComparisonTest {

    record Row(String name, GenerationIds me, GenerationIds peer, boolean iWinTies, SyncDecision expected, Rule rule) {
        @Override public String toString() { return name; }
    }

    static GenerationIds ids(long current, long bitmap, Long... history) { return new GenerationIds(current, bitmap, List.of(history), false); }

    static Stream<Row> rows() {
        return Stream.of(
                new Row("both blank", GenerationIds.BLANK, GenerationIds.BLANK, true, NO_SYNC, Rule.BOTH_BLANK),
                new Row("peer blank: full sync, I am source", ids(7, 0), GenerationIds.BLANK, true, FULL_SOURCE, Rule.ONE_BLANK),
                new Row("I am blank: full sync, I am target", GenerationIds.BLANK, ids(7, 0, 3L), false, FULL_TARGET, Rule.ONE_BLANK),
                new Row("same current", ids(7, 0, 3L), ids(7, 0, 3L), true, NO_SYNC, Rule.SAME_CURRENT),
                new Row("same current, different history is still the same data", ids(7, 0, 3L), ids(7, 0), true, NO_SYNC, Rule.SAME_CURRENT),
                new Row("same current, I crashed as primary", ids(7, 0).withCrashedPrimary(true), ids(7, 0), false, BITMAP_SOURCE, Rule.SAME_CURRENT_CRASHED_PRIMARY),
                new Row("same current, peer crashed as primary", ids(7, 0), ids(7, 0).withCrashedPrimary(true), true, BITMAP_TARGET, Rule.SAME_CURRENT_CRASHED_PRIMARY),
                new Row("same current, both crashed, I win ties", ids(7, 0).withCrashedPrimary(true), ids(7, 0).withCrashedPrimary(true), true, BITMAP_SOURCE, Rule.SAME_CURRENT_CRASHED_PRIMARY),
                new Row("same current, both crashed, peer wins ties", ids(7, 0).withCrashedPrimary(true), ids(7, 0).withCrashedPrimary(true), false, BITMAP_TARGET, Rule.SAME_CURRENT_CRASHED_PRIMARY),
                new Row("I wrote alone since the peer's current", ids(9, 7, 3L), ids(7, 0, 3L), false, BITMAP_SOURCE, Rule.BITMAP_BASE),
                new Row("peer wrote alone since my current", ids(7, 0, 3L), ids(9, 7, 3L), true, BITMAP_TARGET, Rule.BITMAP_BASE),
                new Row("peer took over after I crashed as primary", ids(7, 0).withCrashedPrimary(true), ids(9, 7), true, BITMAP_TARGET, Rule.BITMAP_BASE),
                new Row("bitmap bases point at each other", ids(9, 7), ids(7, 9), true, SPLIT_BRAIN, Rule.BITMAP_BASE_BOTH_WAYS),
                new Row("peer is at an older generation than my bitmap covers", ids(9, 0, 7L, 3L), ids(7, 0, 3L), false, FULL_SOURCE, Rule.IN_HISTORY),
                new Row("I am at an older generation than the peer's bitmap covers", ids(7, 0, 3L), ids(9, 0, 7L, 3L), true, FULL_TARGET, Rule.IN_HISTORY),
                new Row("each is in the other's history", ids(9, 0, 7L), ids(7, 0, 9L), true, SPLIT_BRAIN, Rule.IN_HISTORY_BOTH_WAYS),
                new Row("both wrote alone from the same point", ids(9, 7, 3L), ids(11, 7, 3L), true, SPLIT_BRAIN, Rule.SAME_BITMAP),
                new Row("both diverged further back", ids(9, 5, 3L), ids(11, 6, 3L), true, SPLIT_BRAIN, Rule.SHARED_ANCESTOR),
                new Row("nothing in common", ids(9, 5, 3L), ids(11, 6, 4L), true, UNRELATED, Rule.NOTHING_SHARED));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void decidesTheRowOnBothSides(Row row) {
        GenerationComparison.Verdict mine = GenerationComparison.decide(row.me, row.peer, row.iWinTies);
        assertThat(mine.decision()).isEqualTo(row.expected);
        assertThat(mine.rule()).isEqualTo(row.rule);
        GenerationComparison.Verdict theirs = GenerationComparison.decide(row.peer, row.me, !row.iWinTies);
        assertThat(theirs).isEqualTo(mine.mirror());
    }

    @org.junit.jupiter.api.Test
    void everyRuleHasARow() {
        Set<Rule> covered = EnumSet.noneOf(Rule.class);
        rows().forEach(r -> covered.add(r.rule));
        assertThat(covered).containsExactlyInAnyOrder(Rule.values());
    }
}
