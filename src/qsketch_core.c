/* qsketch_core.c: placeholder until the algorithm lands. */
extern int qsketch_core_placeholder;
int qsketch_core_placeholder;
