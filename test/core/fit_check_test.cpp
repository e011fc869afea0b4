#include "core/fit_check.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

namespace sg {
namespace {

using Ids = std::vector<std::int64_t>;
using Xids = std::vector<Xid>;

Span at(Micros lo, Micros hi) { return make_span(lo, true, hi, false); }  // [lo,hi)

Occupant certain(std::int64_t id, Span blocked, int seats = 1) {
    Occupant o;
    o.id = id;
    o.blocked = blocked;
    o.seats = seats;
    return o;
}

Occupant pending(std::int64_t id, Span blocked, Xid xid, Xid top_xid, int seats = 1) {
    Occupant o = certain(id, blocked, seats);
    o.certain = false;
    o.pending_xid = xid;
    o.pending_top_xid = top_xid;
    return o;
}

TEST(FitCheck, NoOthersFits) {
    const FitResult r = check_fit(at(0, 10), 1, 1, {});
    EXPECT_EQ(r.verdict, Verdict::Fits);
    EXPECT_TRUE(r.conflicting_ids.empty());
    EXPECT_TRUE(r.wait_xids.empty());
    EXPECT_EQ(r.lowest_top_xid, 0u);
}

TEST(FitCheck, OverlapAtCapacityOneConflicts) {
    const FitResult r = check_fit(at(5, 15), 1, 1, {certain(7, at(0, 10)), certain(8, at(20, 30))});
    EXPECT_EQ(r.verdict, Verdict::Conflict);
    EXPECT_EQ(r.conflicting_ids, (Ids{7}));
    EXPECT_TRUE(r.wait_xids.empty());
}

TEST(FitCheck, AdjacentBookingsFit) {
    const std::vector<Occupant> others{certain(1, at(0, 10)), certain(2, at(20, 30))};
    EXPECT_EQ(check_fit(at(10, 20), 1, 1, others).verdict, Verdict::Fits);
    // '[10,20]' reaches the first instant of [20,30).
    EXPECT_EQ(check_fit(make_span(10, true, 20, true), 1, 1, others).verdict, Verdict::Conflict);
}

TEST(FitCheck, CapacityIsAPeakNotACount) {
    // Three overlapping bookings, but never more than two at once.
    EXPECT_EQ(check_fit(at(2, 4), 1, 2, {certain(1, at(1, 3)), certain(2, at(3, 5))}).verdict, Verdict::Fits);
    // When the two others overlap each other inside want, it no longer fits.
    const FitResult r = check_fit(at(2, 4), 1, 2, {certain(1, at(1, 3)), certain(2, at(2, 5))});
    EXPECT_EQ(r.verdict, Verdict::Conflict);
    EXPECT_EQ(r.conflicting_ids, (Ids{1, 2}));
}

TEST(FitCheck, SeatsCount) {
    const std::vector<Occupant> others{certain(1, at(0, 10), 2)};
    EXPECT_EQ(check_fit(at(0, 10), 1, 3, others).verdict, Verdict::Fits);
    EXPECT_EQ(check_fit(at(0, 10), 2, 3, others).verdict, Verdict::Conflict);
    EXPECT_EQ(check_fit(at(0, 10), 2, 4, others).verdict, Verdict::Fits);
}

TEST(FitCheck, MoreSeatsThanCapacityNeverFit) {
    const FitResult r = check_fit(at(0, 10), 3, 2, {certain(1, at(20, 30))});
    EXPECT_EQ(r.verdict, Verdict::Conflict);
    EXPECT_TRUE(r.conflicting_ids.empty());
}

TEST(FitCheck, BuffersWidenTheBlockedSpans) {
    // A booking [10,20) with a 5 microsecond buffer after it blocks [10,25).
    const std::vector<Occupant> others{certain(1, widen(at(10, 20), 0, 5))};
    EXPECT_EQ(check_fit(at(22, 30), 1, 1, others).verdict, Verdict::Conflict);
    EXPECT_EQ(check_fit(at(25, 30), 1, 1, others).verdict, Verdict::Fits);
    // The candidate's own buffer before it reaches back into the booking.
    EXPECT_EQ(check_fit(widen(at(25, 30), 1, 0), 1, 1, others).verdict, Verdict::Conflict);
}

TEST(FitCheck, ConflictingIdsOnlyWhereOverloaded) {
    // capacity 2, want [0,20): the load reaches 2 only on [5,8); 4 and 5 stay clear.
    const std::vector<Occupant> others{certain(9, at(0, 10)), certain(3, at(5, 8)), certain(4, at(12, 18)),
                                       certain(5, at(20, 30)), certain(9, at(6, 7))};
    const FitResult r = check_fit(at(0, 20), 1, 2, others);
    EXPECT_EQ(r.verdict, Verdict::Conflict);
    EXPECT_EQ(r.conflicting_ids, (Ids{3, 9}));
}

TEST(FitCheck, OccupantsWithoutSeatsNeverConflict) {
    const FitResult r = check_fit(at(0, 10), 1, 1, {certain(1, at(0, 10)), certain(2, at(0, 10), 0)});
    EXPECT_EQ(r.verdict, Verdict::Conflict);
    EXPECT_EQ(r.conflicting_ids, (Ids{1}));
}

TEST(FitCheck, PendingWriterMakesItUncertain) {
    const FitResult r = check_fit(at(0, 10), 1, 1, {pending(1, at(5, 15), 100, 90)});
    EXPECT_EQ(r.verdict, Verdict::Uncertain);
    EXPECT_EQ(r.wait_xids, (Xids{100}));
    EXPECT_EQ(r.lowest_top_xid, 90u);
    EXPECT_TRUE(r.conflicting_ids.empty());
}

TEST(FitCheck, UncertainWaitsOnlyForPendingInTheOverloadedPart) {
    // capacity 2, want [0,10): certain load 1 on [0,5); the pending writers
    // overload [1,4); P4 only adds load where there is still room.
    std::vector<Occupant> others{certain(1, at(0, 5))};
    others.push_back(pending(2, at(1, 3), 200, 60));
    others.push_back(pending(3, at(2, 4), 150, 150));
    others.push_back(pending(4, at(7, 9), 5, 1));
    others.push_back(pending(5, at(20, 30), 10, 2));
    others.push_back(pending(6, at(3, 4), 200, 60));  // the same writer again
    const FitResult r = check_fit(at(0, 10), 1, 2, others);
    EXPECT_EQ(r.verdict, Verdict::Uncertain);
    EXPECT_EQ(r.wait_xids, (Xids{150, 200}));
    EXPECT_EQ(r.lowest_top_xid, 60u);
}

TEST(FitCheck, LowestTopXidAcrossXidWraparound) {
    // 4294967290 was assigned before 10 once the counter wrapped: it is the
    // older writer, whichever order the occupants come in.
    for (bool wrapped_first : {true, false}) {
        std::vector<Occupant> others{pending(1, at(0, 10), 10, 10), pending(2, at(0, 10), 4294967290u, 4294967290u)};
        if (wrapped_first) std::swap(others[0], others[1]);
        const FitResult r = check_fit(at(0, 10), 1, 2, others);
        EXPECT_EQ(r.verdict, Verdict::Uncertain);
        EXPECT_EQ(r.lowest_top_xid, 4294967290u);
    }
    EXPECT_TRUE(xid_precedes(4294967290u, 10));
    EXPECT_FALSE(xid_precedes(10, 4294967290u));
    EXPECT_TRUE(xid_precedes(2, 3));  // permanent xids come first
}

TEST(FitCheck, LowestTopXidCanComeFromASubtransaction) {
    const std::vector<Occupant> others{pending(1, at(0, 10), 500, 40), pending(2, at(0, 10), 300, 300)};
    const FitResult r = check_fit(at(0, 10), 1, 2, others);
    EXPECT_EQ(r.verdict, Verdict::Uncertain);
    EXPECT_EQ(r.wait_xids, (Xids{300, 500}));
    EXPECT_EQ(r.lowest_top_xid, 40u);
}

TEST(FitCheck, NoWaitForAMissingXid) {
    const std::vector<Occupant> others{pending(1, at(0, 10), 0, 0), pending(2, at(0, 10), 70, 30)};
    const FitResult r = check_fit(at(0, 10), 1, 2, others);
    EXPECT_EQ(r.verdict, Verdict::Uncertain);
    EXPECT_EQ(r.wait_xids, (Xids{70}));
    EXPECT_EQ(r.lowest_top_xid, 30u);
}

TEST(FitCheck, ConflictTakesPrecedenceOverPending) {
    const std::vector<Occupant> others{certain(1, at(0, 10)), pending(2, at(0, 10), 100, 100)};
    const FitResult r = check_fit(at(5, 15), 1, 1, others);
    EXPECT_EQ(r.verdict, Verdict::Conflict);
    EXPECT_EQ(r.conflicting_ids, (Ids{1}));
    EXPECT_TRUE(r.wait_xids.empty());
    EXPECT_EQ(r.lowest_top_xid, 0u);
}

TEST(FitCheck, PendingThatWouldStillFitIsIgnored) {
    const std::vector<Occupant> others{certain(1, at(0, 10)), pending(2, at(0, 10), 100, 100)};
    EXPECT_EQ(check_fit(at(0, 10), 1, 3, others).verdict, Verdict::Fits);
}

// Brute force over every point of a small grid, straight from the definitions.
FitResult brute_force(const Span& want, int seats, int capacity, const std::vector<Occupant>& others) {
    auto load_at = [&](Wide x, bool certain_only) {
        int load = 0;
        for (const Occupant& o : others)
            if ((o.certain || !certain_only) && o.blocked.lo <= x && x < o.blocked.hi) load += o.seats;
        return load;
    };
    auto touches_overload = [&](const Occupant& o, bool certain_only) {
        for (Wide x = std::max<Wide>(o.blocked.lo, want.lo); x < std::min<Wide>(o.blocked.hi, want.hi); ++x)
            if (load_at(x, certain_only) + seats > capacity) return true;
        return false;
    };
    int peak_all = 0, peak_certain = 0;
    for (Wide x = want.lo; x < want.hi; ++x) {
        peak_all = std::max(peak_all, load_at(x, false));
        peak_certain = std::max(peak_certain, load_at(x, true));
    }

    FitResult r;
    if (peak_all + seats <= capacity) return r;
    if (peak_certain + seats > capacity) {
        r.verdict = Verdict::Conflict;
        for (const Occupant& o : others)
            if (o.certain && touches_overload(o, true)) r.conflicting_ids.push_back(o.id);
        std::sort(r.conflicting_ids.begin(), r.conflicting_ids.end());
        r.conflicting_ids.erase(std::unique(r.conflicting_ids.begin(), r.conflicting_ids.end()),
                                r.conflicting_ids.end());
        return r;
    }
    r.verdict = Verdict::Uncertain;
    for (const Occupant& o : others) {
        if (o.certain || !touches_overload(o, false)) continue;
        r.wait_xids.push_back(o.pending_xid);
        if (r.lowest_top_xid == 0 || o.pending_top_xid < r.lowest_top_xid) r.lowest_top_xid = o.pending_top_xid;
    }
    std::sort(r.wait_xids.begin(), r.wait_xids.end());
    r.wait_xids.erase(std::unique(r.wait_xids.begin(), r.wait_xids.end()), r.wait_xids.end());
    return r;
}

TEST(FitCheck, RandomCasesMatchBruteForce) {
    std::mt19937 rng(7);
    std::uniform_int_distribution<std::int64_t> point(0, 60), length(1, 20);
    std::uniform_int_distribution<int> count(0, 12), small(1, 3), coin(0, 2);
    std::uniform_int_distribution<Xid> xid(1, 8);
    int seen[3] = {0, 0, 0};

    for (int round = 0; round < 5000; ++round) {
        std::vector<Occupant> others;
        const int n = count(rng);
        for (int i = 0; i < n; ++i) {
            const Point lo = point(rng);
            const Span blocked{lo, lo + length(rng)};
            const std::int64_t id = small(rng) * 10 + i % 4;  // some ids repeat
            if (coin(rng) == 0) {
                const Xid x = xid(rng);
                others.push_back(pending(id, blocked, x, x / 2 + 1, small(rng)));
            } else {
                others.push_back(certain(id, blocked, small(rng)));
            }
        }
        const Point lo = point(rng);
        const Span want{lo, lo + length(rng)};
        const int seats = small(rng), capacity = small(rng) + 1;

        const FitResult expected = brute_force(want, seats, capacity, others);
        const FitResult got = check_fit(want, seats, capacity, others);
        ASSERT_EQ(got.verdict, expected.verdict) << "round " << round;
        ASSERT_EQ(got.conflicting_ids, expected.conflicting_ids) << "round " << round;
        ASSERT_EQ(got.wait_xids, expected.wait_xids) << "round " << round;
        ASSERT_EQ(got.lowest_top_xid, expected.lowest_top_xid) << "round " << round;
        ++seen[static_cast<int>(got.verdict)];
    }
    // The generator must exercise every verdict.
    EXPECT_GT(seen[static_cast<int>(Verdict::Fits)], 100);
    EXPECT_GT(seen[static_cast<int>(Verdict::Conflict)], 100);
    EXPECT_GT(seen[static_cast<int>(Verdict::Uncertain)], 100);
}

Ids overbooked_of(const std::vector<Occupant>& occ, int capacity) { return overbooked(occ.data(), occ.size(), capacity); }

TEST(Overbooked, NamesOnlyTheOccupantsOfOverloadedInstants) {
    // capacity 1: 1 and 2 overlap on [5,10); 3 touches 2 only at its end; 4 is alone.
    const std::vector<Occupant> occ = {certain(1, at(0, 10)), certain(2, at(5, 15)), certain(3, at(15, 20)),
                                       certain(4, at(30, 40))};
    EXPECT_EQ(overbooked_of(occ, 1), (Ids{1, 2}));
    EXPECT_EQ(overbooked_of(occ, 2), Ids{});
    EXPECT_EQ(overbooked_of({}, 1), Ids{});
    // Seats count, pending occupants count, a repeated id is named once.
    EXPECT_EQ(overbooked_of({certain(7, at(0, 5), 2), pending(8, at(4, 6), 9, 9), certain(7, at(20, 30))}, 2),
              (Ids{7, 8}));
}

TEST(Overbooked, RandomCasesMatchBruteForce) {
    std::mt19937 rng(13);
    std::uniform_int_distribution<std::int64_t> point(0, 80), length(1, 25);
    std::uniform_int_distribution<int> count(0, 30), seats(1, 3), capacity(1, 5);
    for (int round = 0; round < 3000; ++round) {
        std::vector<Occupant> occ;
        const int n = count(rng);
        for (int i = 0; i < n; ++i) {
            const std::int64_t lo = point(rng);
            occ.push_back(certain(i, at(lo, lo + length(rng)), seats(rng)));
        }
        const int cap = capacity(rng);
        Ids expected;
        for (const Occupant& o : occ)
            for (Wide x = o.blocked.lo; x < o.blocked.hi; ++x) {
                int load = 0;
                for (const Occupant& other : occ)
                    if (other.blocked.lo <= x && x < other.blocked.hi) load += other.seats;
                if (load > cap) {
                    expected.push_back(o.id);
                    break;
                }
            }
        ASSERT_EQ(overbooked_of(occ, cap), expected) << "round " << round;
    }
}

TEST(Overbooked, QuadraticShapedInputIsOneSweep) {
    // Half the occupants overload pairwise, the other half overlaps no
    // overloaded instant: a check that tries each occupant against each
    // overloaded run does n^2/8 tests here (5 * 10^9); a sweep does not.
    const int n = 200000;
    std::vector<Occupant> occ;
    for (int i = 0; i < n / 2; ++i) occ.push_back(certain(i, at(10 * i, 10 * i + 2)));
    for (int i = 0; i < n / 2; i += 2) occ.push_back(certain(n + i, at(10 * i + 1, 10 * i + 2)));
    for (int i = 0; i < n / 4; ++i) occ.push_back(certain(2 * n + i, at(10 * n + 10 * i, 10 * n + 10 * i + 5)));
    const Ids ids = overbooked_of(occ, 1);
    EXPECT_EQ(ids.size(), std::size_t(n / 4 + n / 4));
    EXPECT_EQ(ids.front(), 0);
    EXPECT_EQ(ids.back(), n + n / 2 - 2);
}

}  // namespace
}  // namespace sg
