/* forget — the command-line tool of libforget: sub-command dispatch, help and version.
 * A new sub-command is a cmd_<name>.c file plus one line in the table below. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const cli_command commands[] = {
    { "train",   "train a model on a data set and save it", cmd_train, cmd_train_usage },
    { "predict", "run a saved model on a split and report its accuracy", cmd_predict, cmd_predict_usage },
    { "eval", "measure how well a model forgot: UA, RA, TA, MIA-Efficacy, attacks", cmd_eval, cmd_eval_usage },
    { "unlearn", "make a saved model forget a forget set with a method, save and evaluate it", cmd_unlearn, cmd_unlearn_usage },
    { "bench", "train, unlearn with every method, evaluate: the comparison table", cmd_bench, cmd_bench_usage },
    { "methods", "list the unlearning methods and their parameters", cmd_methods, cmd_methods_usage },
};
enum { N_COMMANDS = sizeof commands / sizeof commands[0] };

static const cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: forget <command> [options]\n\n"
                 "Makes trained neural-network classifiers forget chosen training samples\n"
                 "(libforget %s).\n\ncommands:\n", lf_version_string());
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "  %-10s %s\n", "help", "this text, or a command's options: forget help <command>");
    fputs("\noptions:\n"
          "  --help      this text\n"
          "  --version   print the version\n\n"
          "Exit status: 0 success, 1 failure, 2 bad command line.\n", out);
}

static int is_help_option(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

/* forget help [command] */
static int help(int argc, char **argv)
{
    if (argc < 2) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (argc > 2)
        return cli_usage_error(NULL, "help takes one command name");
    if (strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    const cli_command *cmd = find_command(argv[1]);
    if (!cmd)
        return cli_usage_error(NULL, "unknown command '%s'", argv[1]);
    cmd->usage(stdout);
    return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--version") == 0) {
        printf("forget (libforget) %s\n", lf_version_string());
        return CLI_EXIT_OK;
    }
    if (strcmp(name, "help") == 0 || is_help_option(name))
        return help(argc - 1, argv + 1);
    const cli_command *cmd = find_command(name);
    if (!cmd) {
        if (name[0] == '-')
            return cli_usage_error(NULL, "unknown option '%s'", name);
        return cli_usage_error(NULL, "unknown command '%s'", name);
    }
    /* `forget <command> --help` anywhere on the line shows the command's usage. */
    for (int i = 2; i < argc; i++)
        if (is_help_option(argv[i])) {
            cmd->usage(stdout);
            return CLI_EXIT_OK;
        }
    return cmd->run(argc - 1, argv + 1);
}
