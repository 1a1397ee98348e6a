/**
 * @file plugin.h
 * @brief The csmetrics plugin ABI: the only header a plugin includes.
 *
 * A plugin is a shared object exporting one symbol, ::csm_plugin_entry,
 * which receives the host's function table and returns the plugin's
 * descriptor (::csm_plugin). The host refuses a plugin whose ABI major
 * differs from its own, whose minor is newer than its own, or whose
 * descriptor is smaller than the version-1.0 descriptor.
 *
 * Plugins never talk to Kafka or Redis. They receive decoded events
 * (::csm_event) and the derived events published by plugins before them
 * in the chain (::csm_derived), set timers on event time, and emit
 * counters, set members and alerts through the host. The host owns
 * windows, days, time zones, persistence and exactly-once delivery.
 *
 * One instance of the whole chain exists per partition number (both
 * topics' partition N feed the same instance, see docs/events.md), so a
 * plugin's context only ever sees one partition and needs no locking.
 *
 * Compatibility rules (as the Redis module API):
 *  - ::csm_host_api only grows at its end; members are never reordered.
 *  - Every struct passed across the boundary starts with @c struct_size
 *    so either side can tell which members exist.
 *
 * Use the CSM_PLUGIN_DEFINE() macro to export the entry point.
 */
#ifndef CSMETRICS_PLUGIN_H
#define CSMETRICS_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CSM_PLUGIN_ABI_MAJOR 1 /**< Bumped on incompatible change. */
/** Bumped when the host API or the descriptor grows (1: csm_plugin::needs;
 *  2: incremental state, csm_plugin::state_version and csm_host_api::state_touch;
 *  3: declared figures and alerts, csm_plugin::figures and csm_plugin::alerts). */
#define CSM_PLUGIN_ABI_MINOR 3

/** Name of the one symbol a plugin exports. */
#define CSM_PLUGIN_ENTRY_SYMBOL "csm_plugin_entry"

/** Event time: UTC epoch milliseconds. */
typedef int64_t csm_ts;

/** Value of a csm_ts field that has no time (e.g. "not assigned"). */
#define CSM_TS_NONE INT64_MIN

/** Opaque per-(partition, plugin) handle given to every callback. */
typedef struct csm_host csm_host;
/** Opaque serialisation cursor used by snapshot/restore. */
typedef struct csm_writer csm_writer;
typedef struct csm_reader csm_reader;

/* ------------------------------------------------------------------ */
/** @name Decoded events (docs/events.md)
 * Enumerations number the contract's symbols in schema order; nullable
 * enums use 0 for null. @{ */

typedef enum csm_stream { CSM_STREAM_CHAT = 0, CSM_STREAM_ORDER = 1 } csm_stream;

typedef enum csm_platform {
    CSM_PLATFORM_DOUYIN = 0,
    CSM_PLATFORM_TAOBAO,
    CSM_PLATFORM_TMALL,
    CSM_PLATFORM_PINDUODUO,
    CSM_PLATFORM_JD,
    CSM_PLATFORM_OTHER,
    CSM_PLATFORM_COUNT
} csm_platform;

typedef enum csm_chat_type {
    CSM_CHAT_MESSAGE = 0,
    CSM_CHAT_HUMAN_REQUESTED,
    CSM_CHAT_ASSIGNED,
    CSM_CHAT_TRANSFERRED,
    CSM_CHAT_OFFLINE_MESSAGE,
    CSM_CHAT_SESSION_CLOSED,
    CSM_CHAT_RATING_INVITED,
    CSM_CHAT_RATED,
    CSM_CHAT_AGENT_STATUS,
    CSM_CHAT_TYPE_COUNT
} csm_chat_type;

typedef enum csm_sender {
    CSM_SENDER_NULL = 0,
    CSM_SENDER_CUSTOMER,
    CSM_SENDER_AGENT,
    CSM_SENDER_ROBOT,
    CSM_SENDER_SYSTEM,
    CSM_SENDER_COUNT
} csm_sender;

typedef enum csm_msg_kind {
    CSM_MSG_NULL = 0,
    CSM_MSG_TEXT,
    CSM_MSG_IMAGE,
    CSM_MSG_VIDEO,
    CSM_MSG_EMOJI,
    CSM_MSG_PRODUCT_CARD,
    CSM_MSG_ORDER_CARD,
    CSM_MSG_WELCOME,
    CSM_MSG_AUTO_REPLY,
    CSM_MSG_RATING_CARD,
    CSM_MSG_OTHER,
    CSM_MSG_COUNT
} csm_msg_kind;

typedef enum csm_entry {
    CSM_ENTRY_NULL = 0,
    CSM_ENTRY_PRODUCT_PAGE,
    CSM_ENTRY_ORDER_PAGE,
    CSM_ENTRY_LIVE_ROOM,
    CSM_ENTRY_MESSAGE_LIST,
    CSM_ENTRY_OFFLINE_RECALL,
    CSM_ENTRY_MERCHANT_INITIATED,
    CSM_ENTRY_COUNT
} csm_entry;

typedef enum csm_order_type {
    CSM_ORDER_CREATED = 0,
    CSM_ORDER_PAID,
    CSM_ORDER_SHIPPED,
    CSM_ORDER_DELIVERED,
    CSM_ORDER_COMPLETED,
    CSM_ORDER_CLOSED,
    CSM_ORDER_REFUND_REQUESTED,
    CSM_ORDER_REFUND_COMPLETED,
    CSM_ORDER_REFUND_REJECTED,
    CSM_ORDER_REFUND_CANCELLED,
    CSM_ORDER_PLATFORM_CONSULTED,
    CSM_ORDER_DISPUTE_OPENED,
    CSM_ORDER_COMPLAINT_INTERVENED,
    CSM_ORDER_LOGISTICS_UPDATE,
    CSM_ORDER_TYPE_COUNT
} csm_order_type;

/** Chat-only fields. Strings are NULL when the field is null. */
typedef struct csm_chat_fields {
    csm_chat_type type;
    csm_sender sender;
    csm_msg_kind msg_kind;
    csm_entry entry;
    const char *agent_id;
    const char *from_agent_id;
    const char *group_id;
    const char *order_id;
    const char *intent;
    const char *reason;
    int32_t stars; /**< valid only when has_stars */
    int has_stars;
} csm_chat_fields;

/** Order-only fields. */
typedef struct csm_order_fields {
    csm_order_type type;
    const char *order_id;
    int64_t amount_cents; /**< valid only when has_amount */
    int has_amount;
    const char *refund_id;
    const char *logistics_status;
} csm_order_fields;

/**
 * One decoded, validated event. Pointers are valid only for the duration
 * of the callback that receives it: copy what you keep.
 */
typedef struct csm_event {
    uint32_t struct_size;
    csm_stream stream;
    const char *event_id;
    csm_platform platform;
    const char *shop_id;
    const char *customer_id;
    csm_ts ts;
    csm_chat_fields chat;   /**< meaningful when stream == CSM_STREAM_CHAT */
    csm_order_fields order; /**< meaningful when stream == CSM_STREAM_ORDER */
} csm_event;
/** @} */

/* ------------------------------------------------------------------ */
/** @name Derived events
 * Published by a plugin with csm_publish(); delivered synchronously to
 * every *later* plugin of the chain that subscribes to derived events.
 * Types below 1000 are the session builder's lifecycle; other plugins
 * may publish their own types from 1000 up, naming them in @c name. @{ */

/**
 * Read-only view of a session, owned by the session builder. Valid for
 * the duration of the callback; key per-session state by @c id, which is
 * unique and stable within a partition (and survives restarts).
 */
typedef struct csm_session {
    uint32_t struct_size;
    uint64_t id;
    const char *shop_id;
    const char *customer_id;
    csm_platform platform;
    csm_ts open_ts;
    int merchant_initiated;      /**< opened by the merchant (主动发起) */
    int aftersale;               /**< PAID on shop-local days D-21..D-1 of the opening day */
    csm_ts request_ts;           /**< first HUMAN_REQUESTED, or CSM_TS_NONE */
    csm_ts assign_ts;            /**< first ASSIGNED after the request, or CSM_TS_NONE */
    const char *agent_id;        /**< latest assigned/transferred agent, or NULL */
    const char *intent;          /**< first non-null intent, or NULL */
    csm_ts last_customer_ts;     /**< last customer event (idle clock) */
    csm_ts first_human_reply_ts; /**< first human reply at all, or CSM_TS_NONE */
    int offline;                 /**< an OFFLINE_MESSAGE was seen */
    csm_ts close_ts;             /**< close time, or CSM_TS_NONE while open */
    /** 1 from a customer MESSAGE until the next human reply (appended:
     *  read it only when struct_size covers it). */
    int unanswered;
} csm_session;

typedef enum csm_derived_type {
    CSM_SESSION_OPENED = 1,       /**< ts = open time */
    CSM_SESSION_HUMAN_REQUESTED,  /**< every HUMAN_REQUESTED; first sets request_ts */
    CSM_SESSION_ASSIGNED,         /**< every ASSIGNED (agent_id may be NULL) */
    CSM_SESSION_TRANSFERRED,      /**< agent_id = new agent, from_agent_id = old */
    CSM_SESSION_CUSTOMER_MESSAGE, /**< a CUSTOMER MESSAGE of any kind */
    CSM_SESSION_HUMAN_REPLY,      /**< AGENT MESSAGE other than WELCOME/AUTO_REPLY */
    CSM_SESSION_AUTO_MESSAGE,     /**< AGENT WELCOME / AUTO_REPLY (not a human reply) */
    CSM_SESSION_OFFLINE_MESSAGE,  /**< reason = offline reason */
    CSM_SESSION_RATING_INVITED,   /**< every RATING_INVITED routed to the session */
    CSM_SESSION_RATED,            /**< every RATED with valid stars routed to the session */
    CSM_SESSION_CLOSED, /**< ts = close time; reason = AGENT/CUSTOMER/SYSTEM/IDLE/MAX_OPEN/END */
    CSM_SESSION_INTENT_SET, /**< the session's intent was just set */
    CSM_DERIVED_CUSTOM_BASE = 1000
} csm_derived_type;

typedef struct csm_derived {
    uint32_t struct_size;
    int type;                   /**< csm_derived_type or a custom type */
    const char *name;           /**< short name of the type ("opened", …) */
    csm_ts ts;                  /**< event time of what happened */
    const csm_session *session; /**< the session concerned, or NULL */
    const csm_event *cause;     /**< the raw event behind it, or NULL (timer) */
    const char *agent_id;       /**< agent concerned, or NULL */
    const char *from_agent_id;  /**< TRANSFERRED: agent handing over */
    const char *reason;         /**< free text (offline/close reason) */
    int32_t stars;              /**< RATED: 1..5, else 0 */
} csm_derived;
/** @} */

/* ------------------------------------------------------------------ */
/** @name Output: counters, set members, alerts
 * The host turns these into Redis keys (docs/redis-keys.md), aggregates
 * them in memory, and writes them exactly once with the partition
 * offsets they cover. @{ */

typedef enum csm_scope {
    CSM_SCOPE_SHOP = 0, /**< board (if in window) + all-day */
    CSM_SCOPE_AGENT,    /**< per agent, whole day; subject = agent id */
    CSM_SCOPE_INTENT    /**< per intent, whole day; subject = intent */
} csm_scope;

/** Flags of csm_count::flags. */
#define CSM_COUNT_HOURLY 0x1u /**< also add to the hourly series */

typedef struct csm_count {
    uint32_t struct_size;
    const char *shop_id;
    csm_platform platform; /**< picks the platform's assessment window */
    csm_ts anchor_ts;      /**< the figure's anchor: day, hour and window */
    csm_scope scope;
    const char *subject;     /**< agent id or intent for those scopes */
    const char *split;       /**< NULL, or "presale"/"aftersale"/"human"/"robot" */
    const char *name;        /**< figure name, as in docs/metrics.md */
    const char *hourly_name; /**< name in the hourly series, NULL = name */
    uint32_t flags;
    int64_t delta;
} csm_count;

/** Adds a member to a per-shop, per-day set (counted with SCARD): the set of
 *  anchor_ts's day, and the board's set too if anchor_ts is in the assessment
 *  window of the shop and platform (as for a count). */
typedef struct csm_set_member {
    uint32_t struct_size;
    const char *shop_id;
    csm_platform platform;
    csm_ts anchor_ts;
    const char *name; /**< set name, e.g. "aftersale_seekers" */
    const char *member;
} csm_set_member;

typedef struct csm_alert {
    uint32_t struct_size;
    const char *type; /**< FIRST_RESPONSE_TIMEOUT, … */
    const char *shop_id;
    const char *customer_id;
    csm_ts session_open_ts;
    const char *agent_id; /**< may be NULL */
    csm_ts anchor_ts;
    csm_ts raised_ts; /**< event time when raised */
    int64_t figure;   /**< e.g. waited ms */
    csm_platform platform;
} csm_alert;
/** @} */

/* ------------------------------------------------------------------ */
/** @name Configuration map (Fluent Bit style)
 * A plugin lists its keys; the host validates the configuration against
 * them (unknown key, wrong type: an error naming the key) and writes each
 * value into the plugin context at @c offset before init(). @{ */

typedef enum csm_config_type {
    CSM_CONFIG_END = 0, /**< terminates the table */
    CSM_CONFIG_INT,     /**< int64_t */
    CSM_CONFIG_DOUBLE,  /**< double */
    CSM_CONFIG_BOOL,    /**< int: 0/1; YAML true/false */
    CSM_CONFIG_STRING,  /**< const char * owned by the host */
    CSM_CONFIG_DURATION /**< int64_t ms; "150", "500ms", "30s", "15m", "24h", "3d" */
} csm_config_type;

typedef struct csm_config_entry {
    csm_config_type type;
    const char *name;
    const char *default_value; /**< textual, parsed like a configured value */
    size_t offset;             /**< offsetof(ctx struct, member) */
    const char *doc;
} csm_config_entry;
/** @} */

/* ------------------------------------------------------------------ */
/** @name Declared figures and alerts (ABI 1.3)
 * What a plugin emits, described for the readers: `csmetrics report`
 * (text and JSON), the exporter and the dashboard list every figure and
 * alert type declared by the plugins of the chain, so a new plugin's
 * counters show up there without any change to the core. Declaring is
 * optional: a counter nobody declares is still written to Redis, but no
 * reader shows it. @{ */

/** How a figure is obtained (csm_figure_decl::kind). */
typedef enum csm_figure_kind {
    /** A counter or sum the plugin emits with csm_emit_count() (or, with
     *  #CSM_FIGURE_SET, the number of distinct members of a set). */
    CSM_FIGURE_COUNTER = 0,
    /** A rate computed when read: (num + num2) / den. */
    CSM_FIGURE_RATE,
    /** A rate computed when read: 1 − (num + num2) / den (e.g. FCR). */
    CSM_FIGURE_ONE_MINUS,
    /** An average computed when read: num / den, in the unit of num
     *  (e.g. a sum of milliseconds over a count). */
    CSM_FIGURE_AVERAGE
} csm_figure_kind;

/** @name Bits of csm_figure_decl::where (counters only)
 * Where a counter is kept. A derived figure exists wherever all its
 * counters do, except in the hourly series (which hold counters only). @{ */
#define CSM_FIGURE_BOARD 0x1u   /**< board and all-day blocks (#CSM_SCOPE_SHOP) */
#define CSM_FIGURE_SPLITS 0x2u  /**< also split by presale/aftersale and human/robot */
#define CSM_FIGURE_AGENTS 0x4u  /**< per agent (#CSM_SCOPE_AGENT) */
#define CSM_FIGURE_INTENTS 0x8u /**< per intent (#CSM_SCOPE_INTENT) */
#define CSM_FIGURE_HOURLY                                                                          \
    0x10u /**< per shop-local hour (#CSM_COUNT_HOURLY; the name                                    \
               is then csm_count::hourly_name, or name) */
/** @} */

/** @name Bits of csm_figure_decl::flags @{ */
/** A per-shop, per-day set (csm_set_member::name = the figure's name) whose
 *  size is the counter, on the board and all-day blocks alike. */
#define CSM_FIGURE_SET 0x1u
/** One of the handful of figures of compact tables (the report's agent
 *  table): the others are shown only in full listings. */
#define CSM_FIGURE_SUMMARY 0x2u
/** @} */

/** Direction of csm_figure_decl::target. */
typedef enum csm_figure_target_dir {
    CSM_TARGET_NONE = 0, /**< no target */
    CSM_TARGET_AT_LEAST, /**< good when the value is >= target (satisfaction) */
    CSM_TARGET_AT_MOST   /**< good when the value is <= target (unserved) */
} csm_figure_target_dir;

/**
 * One figure a plugin emits or derives from counters. A plugin points
 * csm_plugin::figures at an array of these ended by an entry whose @c name
 * is NULL; every entry has the same @c struct_size (use CSM_FIGURE()).
 *
 * Names are global: the same name in two plugins of a chain is refused
 * at load. A rate may use counters of other plugins (then list those
 * plugins in csm_plugin::needs), e.g. sla's first_reply_2m_rate divides
 * its own first_reply_2m by the session builder's human_requested.
 */
typedef struct csm_figure_decl {
    uint32_t struct_size; /**< sizeof(csm_figure_decl) of the plugin's build */
    /** As in Redis and in the report's JSON (docs/metrics.md names the built-in ones). */
    const char *name;
    /** Short, human wording for the text report and the dashboard
     *  ("first reply ≤ 2 min"); UTF-8, at most 26 characters. */
    const char *label;
    /** Unit of a counter or average: "count", "ms" (shown in s/min), or any
     *  other word shown as is. Rates are fractions whatever is set here. */
    const char *unit;
    csm_figure_kind kind; /**< a counter, or how it is derived from counters */
    /** Counters: CSM_FIGURE_* bits, where the counter is kept. Derived
     *  figures: 0 (they exist wherever their counters do). */
    uint32_t where;
    /** Derived figures: the numerator, a counter's name (NULL for counters). */
    const char *num;
    /** Derived figures: a second counter added to @c num (e.g. unserved_offline +
     *  unserved_noreply), or NULL. */
    const char *num2;
    /** Derived figures: the denominator, a counter's name (NULL for counters). */
    const char *den;
    /** Section of the text report and of the dashboard's board ("core
     *  monitor", "satisfaction", "after-sale", or a plugin's own); sections
     *  come in chain order, figures in declaration order. */
    const char *group;
    /** #CSM_FIGURE_SET, #CSM_FIGURE_SUMMARY. */
    uint32_t flags;
    /** Target of a rate, as a fraction (0.8 for 80 %), for colouring and
     *  for the report's "below target" mark; ignored when @c target_dir is
     *  #CSM_TARGET_NONE. */
    double target;
    csm_figure_target_dir target_dir; /**< #CSM_TARGET_NONE: no target */
    /** A shop setting (shops.<id>.KEY) that overrides @c target per shop,
     *  parsed as a fraction or a percentage ("0.9", "90%"); NULL for none. */
    const char *target_setting;
} csm_figure_decl;

/** An entry of a figure table, with its struct_size filled in. */
#define CSM_FIGURE(...)                                                                            \
    {                                                                                              \
        .struct_size = sizeof(csm_figure_decl), __VA_ARGS__                                        \
    }

/**
 * One alert type a plugin raises. A plugin points csm_plugin::alerts at an
 * array of these ended by an entry whose @c type is NULL.
 */
typedef struct csm_alert_decl {
    uint32_t struct_size; /**< sizeof(csm_alert_decl) of the plugin's build */
    const char *type;     /**< csm_alert::type */
    const char *label;    /**< human wording ("no first reply in time") */
    /** Unit of csm_alert::figure: "ms" (shown in s/min), "bp" (basis points,
     *  shown as %), "stars", "count", or another word shown as is. */
    const char *unit;
} csm_alert_decl;

/** An entry of an alert table, with its struct_size filled in. */
#define CSM_ALERT_TYPE(...)                                                                        \
    {                                                                                              \
        .struct_size = sizeof(csm_alert_decl), __VA_ARGS__                                         \
    }
/** @} */

/* ------------------------------------------------------------------ */
/** A timer as delivered to on_timer(). */
typedef struct csm_timer {
    uint32_t struct_size;
    uint64_t id; /**< as returned by csm_timer_set() */
    csm_ts deadline;
    uint64_t key; /**< plugin's own key (e.g. a session id) */
    uint32_t tag; /**< plugin's own kind of timer */
} csm_timer;

/** Subscription bits of csm_plugin::subscribe. */
#define CSM_SUBSCRIBE_CHAT 0x1u
#define CSM_SUBSCRIBE_ORDER 0x2u
#define CSM_SUBSCRIBE_DERIVED 0x4u

/**
 * A plugin's descriptor. The host allocates @c ctx_size zeroed bytes per
 * instance, fills them from @c config_map, then calls init().
 * Every callback may be NULL.
 */
typedef struct csm_plugin {
    uint32_t struct_size;
    uint32_t abi_major;
    uint32_t abi_minor;
    const char *name; /**< as written in the configuration */
    const char *description;
    const char *version;
    size_t ctx_size;
    const csm_config_entry *config_map;
    uint32_t subscribe;

    /** After configuration; non-zero refuses to start (log why). */
    int (*init)(void *ctx, csm_host *host);
    /** Frees what init() and the callbacks allocated (not ctx itself). */
    void (*destroy)(void *ctx, csm_host *host);
    void (*on_event)(void *ctx, csm_host *host, const csm_event *ev);
    void (*on_derived)(void *ctx, csm_host *host, const csm_derived *d);
    void (*on_timer)(void *ctx, csm_host *host, const csm_timer *t);
    /**
     * Writes the plugin's whole state for this partition. Together with
     * the host's timers it must let restore() continue exactly as if the
     * process had never stopped. Return 0 on success.
     */
    int (*snapshot)(void *ctx, csm_host *host, csm_writer *w);
    /** Reads what snapshot() wrote, into a freshly init()ed ctx. */
    int (*restore)(void *ctx, csm_host *host, csm_reader *r);
    /** Number of entries the plugin holds (sessions, customers…), for /metrics. */
    uint64_t (*state_entries)(void *ctx, csm_host *host);

    /* ---- ABI 1.1 ---- */
    /**
     * Names (csm_plugin::name) of the plugins that must come before this
     * one in the chain, NULL-terminated; NULL for none. A plugin that
     * consumes another's derived events lists it here (e.g. every
     * consumer of the session lifecycle lists "session"). The host refuses
     * a chain where one is missing or comes later, naming both. Read only
     * when @c struct_size covers it: a 1.0 plugin needs nothing.
     */
    const char *const *needs;

    /* ---- ABI 1.2: incremental state ---- */
    /**
     * Version of the state this plugin writes (save_entry(), or snapshot()
     * for a plugin without entries), stored with it. The host refuses to
     * start on a checkpoint holding a newer version than this, naming the
     * plugin; an older one is handed to load_entry() to convert (a plugin
     * without entries must read exactly its own version). 0 for 1.0/1.1.
     */
    uint32_t state_version;
    /**
     * Incremental checkpoints. A plugin that keeps state per entity
     * (session, customer, order…) calls csm_state_touch(host, key) whenever
     * entry @p key is created, changes or goes away. At the next flush the
     * host calls save_entry() once per touched key and writes only those,
     * in the same transaction as the counters they produced.
     *
     * Keys are the plugin's own, unique among its live entries (a session
     * id, a number the plugin assigns…); key 0 may hold plugin-wide state.
     * Pending timers are saved by the host beside the entry whose key they
     * carry (csm_timer::key), so a plugin never saves timers itself.
     *
     * Return 0 after writing the entry, 1 when it no longer exists (the
     * host deletes it), -1 on failure (the flush fails and is retried).
     * NULL: the host saves snapshot() whole at every flush after which any
     * of the plugin's callbacks ran (1.0/1.1 behaviour, costly for large
     * state).
     */
    int (*save_entry)(void *ctx, csm_host *host, uint64_t key, csm_writer *w);
    /**
     * Reads one entry that save_entry() wrote with state version @p version
     * into a freshly init()ed ctx, before any event. Entries arrive in no
     * particular order. Return 0, or -1 when it cannot be read (the host
     * refuses to start, naming the plugin and the key).
     */
    int (*load_entry)(void *ctx, csm_host *host, uint64_t key, uint32_t version, csm_reader *r);
    /** After every entry is loaded (rebuild indexes, check links). May be NULL. */
    int (*load_done)(void *ctx, csm_host *host);

    /* ---- ABI 1.3: declared figures and alerts ---- */
    /**
     * The figures this plugin emits or derives (csm_figure_decl), ended by
     * an entry with a NULL name; NULL for none. The host builds from them
     * the registry that `csmetrics report`, the exporter and the dashboard
     * list. Read only when @c struct_size covers it: a 1.0–1.2 plugin
     * declares nothing and still loads.
     */
    const csm_figure_decl *figures;
    /** The alert types this plugin raises (csm_alert_decl), ended by an
     *  entry with a NULL type; NULL for none. Same rule as @c figures. */
    const csm_alert_decl *alerts;
} csm_plugin;

/* ------------------------------------------------------------------ */
/**
 * The host's function table. Append-only: a plugin built against minor
 * M may use every member up to M's, checked with struct_size.
 */
typedef struct csm_host_api {
    uint32_t struct_size;
    uint32_t abi_major;
    uint32_t abi_minor;

    /** Logs a line (levels: 0 error, 1 warn, 2 info, 3 debug). */
    void (*log)(csm_host *h, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

    /** Publishes a derived event to the later plugins of the chain. */
    void (*publish)(csm_host *h, const csm_derived *d);

    /** Sets a timer firing when event time passes @p deadline. Returns its id. */
    uint64_t (*timer_set)(csm_host *h, csm_ts deadline, uint64_t key, uint32_t tag);
    /** Cancels a pending timer; returns 0 if it was pending. */
    int (*timer_cancel)(csm_host *h, uint64_t timer_id);
    /** The event time being applied (ts of the event, or the timer deadline). */
    csm_ts (*now)(csm_host *h);

    void (*count)(csm_host *h, const csm_count *c);
    void (*set_add)(csm_host *h, const csm_set_member *m);
    void (*alert)(csm_host *h, const csm_alert *a);

    /** Shop-local calendar day of @p ts as days since 1970-01-01. */
    int32_t (*local_day)(csm_host *h, const char *shop_id, csm_ts ts);
    /** UTC epoch ms of the shop-local midnight starting @p day. */
    csm_ts (*day_start)(csm_host *h, const char *shop_id, int32_t day);
    /** Shop-local hour 0..23 of @p ts. */
    int (*local_hour)(csm_host *h, const char *shop_id, csm_ts ts);

    /** Snapshot encoding: little-endian fixed ints and length-prefixed strings. */
    void (*put_i64)(csm_writer *w, int64_t v);
    void (*put_str)(csm_writer *w, const char *s); /**< NULL allowed */
    /** Return 0 on success, -1 when the snapshot is short or corrupt. */
    int (*get_i64)(csm_reader *r, int64_t *v);
    /** *s is a fresh malloc'd copy (NULL for a NULL string); caller frees. */
    int (*get_str)(csm_reader *r, char **s);

    /** A configured value of a shop (e.g. "satisfaction_target"), or NULL. */
    const char *(*shop_setting)(csm_host *h, const char *shop_id, const char *key);

    /** Adds to a process statistic exported on /metrics as
     *  csmetrics_plugin_events_total{plugin,name} (e.g. "ignored_no_session"). */
    void (*stat_add)(csm_host *h, const char *name, int64_t delta);

    /* ---- ABI 1.2 ---- */
    /** Entry @p key of the calling plugin was created, changed or removed:
     *  save_entry() is called for it at the next flush (see csm_plugin). */
    void (*state_touch)(csm_host *h, uint64_t key);
} csm_host_api;

/** The entry point's type. Return NULL to refuse loading. */
typedef const csm_plugin *(*csm_plugin_entry_fn)(const csm_host_api *api);

/* ------------------------------------------------------------------ */
/** @name Convenience wrappers
 * A plugin includes this header in each of its translation units; the
 * table pointer is set by CSM_PLUGIN_DEFINE's entry point. @{ */
extern const csm_host_api *csm_api;

#define csm_log(h, lvl, ...) csm_api->log((h), (lvl), __VA_ARGS__)
static inline void csm_publish(csm_host *h, const csm_derived *d)
{
    csm_api->publish(h, d);
}
static inline uint64_t csm_timer_set(csm_host *h, csm_ts deadline, uint64_t key, uint32_t tag)
{
    return csm_api->timer_set(h, deadline, key, tag);
}
static inline int csm_timer_cancel(csm_host *h, uint64_t id)
{
    return csm_api->timer_cancel(h, id);
}
static inline csm_ts csm_now(csm_host *h)
{
    return csm_api->now(h);
}
static inline void csm_emit_count(csm_host *h, const csm_count *c)
{
    csm_api->count(h, c);
}
static inline void csm_emit_set_add(csm_host *h, const csm_set_member *m)
{
    csm_api->set_add(h, m);
}
static inline void csm_emit_alert(csm_host *h, const csm_alert *a)
{
    csm_api->alert(h, a);
}
static inline int32_t csm_local_day(csm_host *h, const char *shop, csm_ts ts)
{
    return csm_api->local_day(h, shop, ts);
}
static inline csm_ts csm_day_start(csm_host *h, const char *shop, int32_t day)
{
    return csm_api->day_start(h, shop, day);
}
static inline void csm_stat_add(csm_host *h, const char *name, int64_t delta)
{
    csm_api->stat_add(h, name, delta);
}
static inline void csm_state_touch(csm_host *h, uint64_t key)
{
    csm_api->state_touch(h, key);
}
/** @} */

/**
 * Defines the exported entry point for descriptor @p desc (a static
 * csm_plugin). It refuses a host of another ABI major.
 */
#define CSM_PLUGIN_DEFINE(desc)                                                                    \
    const csm_host_api *csm_api;                                                                   \
    __attribute__((visibility("default"))) const csm_plugin *csm_plugin_entry(                     \
        const csm_host_api *api);                                                                  \
    const csm_plugin *csm_plugin_entry(const csm_host_api *api)                                    \
    {                                                                                              \
        if (!api || api->abi_major != CSM_PLUGIN_ABI_MAJOR ||                                      \
            api->struct_size < sizeof(csm_host_api))                                               \
            return NULL;                                                                           \
        csm_api = api;                                                                             \
        return &(desc);                                                                            \
    }

#ifdef __cplusplus
}
#endif
#endif /* CSMETRICS_PLUGIN_H */
