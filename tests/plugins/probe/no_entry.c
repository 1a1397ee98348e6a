/* A shared object without the entry symbol: the host must refuse it. */
__attribute__((visibility("default"))) int not_a_plugin(void);
int not_a_plugin(void)
{
    return 0;
}
