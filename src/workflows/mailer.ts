import nodemailer, { type Transporter } from 'nodemailer';

export interface Mail {
  from?: string | undefined;
  to: string | string[];
  subject: string;
  text?: string | undefined;
  html?: string | undefined;
}

/** E-mail for the notify node, over the SMTP server HOOKYARD_SMTP_URL names (one transport per process). */
export class Mailer {
  private readonly transport: Transporter;

  constructor(url: string, private readonly defaultFrom: string) {
    this.transport = nodemailer.createTransport(url);
  }

  async send(mail: Mail): Promise<{ messageId: string; accepted: string[] }> {
    const info = await this.transport.sendMail({ ...mail, from: mail.from ?? this.defaultFrom });
    return { messageId: String(info.messageId), accepted: (info.accepted as unknown[]).map(String) };
  }

  close(): void {
    this.transport.close();
  }
}
