# The client of faults.sh: EHLO, MAIL, 40 RCPTs, QUIT, printing the code
# of each RCPT reply on one line (it goes into the report's client.stdout).
import smtplib
import sys

s = smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=10)
s.ehlo("client.harness.test")
s.mail("a@harness.test")
codes = [str(s.rcpt("r%d@example.test" % i)[0]) for i in range(40)]
s.quit()
print(" ".join(codes))
