/* The min plugin through the installed test kit: test_min PLUGIN_DIR.
 * Shop s1 (DOUYIN, Asia/Shanghai, window 08:00-23:00): two order events
 * at 10:00 and 10:30 on 2026-11-20, then the second again (a duplicate by
 * event_id, not applied): the board of that day counts min_events = 2. */
#include <csmetrics/testkit.h>
#include <stdio.h>

#define EV(id, ts)                                                                                 \
    "{\"stream\": \"order\", \"event_id\": \"" id "\", \"platform\": \"DOUYIN\", \"shop_id\": "    \
    "\"s1\", \"customer_id\": \"c1\", \"ts\": " ts ", \"type\": \"REFUND_REQUESTED\", "            \
    "\"order_id\": \"o1\", \"refund_id\": \"r1\"}"

int main(int argc, char **argv)
{
    char yaml[1024], err[512];
    snprintf(yaml, sizeof yaml, "plugin_path: \"%s\"\nplugins:\n  - name: min\n",
             argc > 1 ? argv[1] : ".");
    csm_testkit *tk = csm_testkit_new(yaml, err, sizeof err);
    if (!tk) {
        fprintf(stderr, "test_min: %s\n", err);
        return 1;
    }
    int v1 = csm_testkit_feed(tk, EV("m-1", "1795140000000"));
    int v2 = csm_testkit_feed(tk, EV("m-2", "1795141800000"));
    int v3 = csm_testkit_feed(tk, EV("m-2", "1795141800000"));
    csm_testkit_end(tk);
    long long n = (long long)csm_testkit_counter(tk, "board", "s1", "2026-11-20", "min_events");
    csm_testkit_free(tk);
    int ok = v1 == CSM_TK_ACCEPTED && v2 == CSM_TK_ACCEPTED && v3 == CSM_TK_DUPLICATE && n == 2;
    printf("test_min: verdicts %d %d %d, min_events %lld: %s\n", v1, v2, v3, n, ok ? "ok" : "FAIL");
    return ok ? 0 : 1;
}
