/* The pod sandbox ("pause") process: holds the pod's namespaces open, sleeps forever, reaps the
 * zombies it inherits as PID 1, and exits at once on SIGINT or SIGTERM (PID 1 ignores signals it
 * has no handler for, which would make every pod stop wait for SIGKILL). */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static void quit(int sig) { (void)sig; _exit(0); }

static void reap(int sig) {
  (void)sig;
  while (waitpid(-1, 0, WNOHANG) > 0) {
  }
}

int main(void) {
  struct sigaction sa = {0};
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = quit;
  sigaction(SIGINT, &sa, 0);
  sigaction(SIGTERM, &sa, 0);
  sa.sa_handler = reap;
  sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
  sigaction(SIGCHLD, &sa, 0);
  for (;;) pause();
}
