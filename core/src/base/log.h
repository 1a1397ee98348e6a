/* One line per event of note: "2026-11-22T10:00:00.123Z LEVEL component: message". */
#ifndef CSM_LOG_H
#define CSM_LOG_H

enum { CSM_LOG_ERROR = 0, CSM_LOG_WARN = 1, CSM_LOG_INFO = 2, CSM_LOG_DEBUG = 3 };

void csm_log_set_level(int level);
int csm_log_level(void);
void csm_logf(int level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void csm_vlogf(int level, const char *component, const char *fmt, __builtin_va_list ap);

#endif
