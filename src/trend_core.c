/* trend_core.c: placeholder until the algorithm lands. */
extern int trend_core_placeholder;
int trend_core_placeholder;
